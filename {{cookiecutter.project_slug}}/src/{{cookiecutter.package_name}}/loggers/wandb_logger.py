"""Lightning's WandbLogger, offline when this machine has no W&B API key.

Without this, `wandb` online with no key stops with an error, and with a key but no network it
blocks for about 100 s before failing.
"""

import hashlib
import netrc
import os
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.loggers import WandbLogger

from ..launch.ranks import in_sweep


def has_wandb_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def sweep_group_and_job_name() -> tuple[str | None, str | None]:
    """In a sweep: the sweep directory's name (one W&B group per sweep) and the job directory's."""
    if not HydraConfig.initialized():
        return None, None
    hydra_cfg = HydraConfig.get()
    group = Path(hydra_cfg.sweep.dir).name if in_sweep() else None
    return group, Path(hydra_cfg.runtime.output_dir).name


def run_id_of(output_dir: str) -> str:
    """One W&B run per run directory: a SLURM requeue or `ckpt_path=last` continues the same run."""
    return hashlib.sha256(str(Path(output_dir).resolve()).encode()).hexdigest()[:16]


def wandb_mode(mode: str | None) -> str | None:
    """`mode`, else `WANDB_MODE`, else offline when no key is configured (saying so), else None:
    W&B's default, online."""
    mode = mode or os.environ.get("WANDB_MODE")
    if mode is None and not has_wandb_key():
        print("W&B: no API key (WANDB_API_KEY or `wandb login`), logging offline; `wandb sync` later.")
        return "offline"
    return mode


def wandb_logger(
    mode: str | None = None,
    group: str | None = None,
    name: str | None = None,
    id: str | None = None,  # noqa: A002 (W&B's name)
    **kwargs,
):
    """`mode` is W&B's own (online/offline/disabled); None means online if a key is configured.

    `group` and `name` default to the sweep's and the job's directory names, so that the runs of
    one sweep sit together in W&B and each can be traced back to its directory. `id` defaults to
    one derived from the run directory, resumed when the directory is continued.
    """
    mode = wandb_mode(mode)
    sweep_group, job_name = sweep_group_and_job_name()
    # Passed to wandb.init, not set in os.environ, so it cannot leak into the next job of a sweep.
    if id is None and kwargs.get("save_dir"):
        id = run_id_of(kwargs["save_dir"])  # noqa: A001
    return WandbLogger(
        mode=mode, group=group or sweep_group, name=name or job_name, id=id, resume="allow", **kwargs
    )
