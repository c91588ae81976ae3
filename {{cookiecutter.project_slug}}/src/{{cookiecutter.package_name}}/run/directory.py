"""Where a run writes: a new timestamped directory, the previous one when resuming, or a sweep job's.

Hydra creates these directories before `main` runs, so the choices are made by resolvers used in
`configs/hydra/default.yaml`.
"""

import hashlib
import inspect
import shutil
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

from ..cli.overrides import override_key
from ..launch.ranks import is_rank_zero, process_rank
from ..launch.slurm import gpus_per_node, slurm_run_name
from .record import read_record, task_choices

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


# Long enough to read every override of a typical ablation; longer names get a hash suffix.
MAX_JOB_DIR_NAME = 120


def register_resolvers() -> None:
    register_resolver("run_dir", run_dir, use_cache=True)
    register_resolver("job_dir", job_dir_name)
    register_resolver("rank_zero_only", rank_zero_only)
    register_resolver("rank_suffix", rank_suffix)
    register_resolver("config_subdir", config_subdir, use_cache=True)
    # configs/hydra/launcher/slurm.yaml: GPUs per node follow the trainer's devices.
    register_resolver("slurm_gpus", gpus_per_node)


def register_resolver(name: str, resolver, use_cache: bool = False) -> None:
    # OmegaConf 2.4 names it register_resolver and deprecates register_new_resolver; in 2.3
    # register_resolver is the legacy one, without `replace` and `use_cache`.
    if "use_cache" in inspect.signature(OmegaConf.register_resolver).parameters:
        OmegaConf.register_resolver(name, resolver, replace=True, use_cache=use_cache)
    else:
        OmegaConf.register_new_resolver(name, resolver, replace=True, use_cache=use_cache)


def rank_zero_only(value: str) -> str | None:
    """`value` in the process that owns the run's files, None in the other ranks of a DDP job."""
    return value if is_rank_zero() else None


def rank_suffix() -> str:
    """`_rank1` for rank 1 of a DDP job, so that each rank logs to a file of its own."""
    rank = process_rank()
    return f"_rank{rank}" if rank else ""


def config_subdir(output_dir: str) -> str:
    """Where Hydra saves the config of this start of a run: `.hydra` the first time, and
    `.hydra/segment_<time>` when the directory holds a run already (resumed, a sweep job re-run,
    a requeued SLURM job), so that the config each part ran with is kept, none overwritten."""
    if not (Path(output_dir) / ".hydra" / "config.yaml").is_file():
        return ".hydra"
    return f".hydra/segment_{datetime.now().strftime('%Y-%m-%d_%H-%M-%S_%f')}"


def remove_segment_config() -> None:
    """Removes what `config_subdir` gave a start of a run that did not run (a refused resume)."""
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    subdir = hydra_cfg.output_subdir
    if subdir and Path(subdir).name.startswith("segment_"):
        shutil.rmtree(Path(hydra_cfg.runtime.output_dir) / subdir, ignore_errors=True)


def run_dir(ckpt_path: str | None, runs_root: str, choices, overrides) -> str:
    """With `ckpt_path=last`, the latest run of the same `configuration` that has a `last.ckpt`."""
    root = Path(runs_root)
    if ckpt_path == "last":
        previous = latest_resumable_run(root, configuration(choices, overrides))
        if previous is not None:
            return str(previous)
    return str(new_run_dir(root))


def new_run_dir(root: Path) -> Path:
    slurm_name = slurm_run_name()
    if slurm_name is not None:
        return root / slurm_name
    # Microseconds: single runs started in the same second (a job array) never share a directory.
    return root / datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")


# The one list of settings that change neither what a run learns nor where it is written: a run
# resumed with `ckpt_path=last`, or a sweep re-run in its directory, with other values of these
# (or of any key below them) is the same run, in the same directory. How it is shown, how often
# it saves, where logs go; never what it learns.
NEUTRAL_KEYS = (
    "ckpt_path",
    "paths.log_dir",
    "extras",
    "callbacks.progress_bar",
    "callbacks.last_checkpoint.min_interval_s",
)
# A resumed run may also train for longer; a sweep over these makes one job directory per value.
TRAINING_LENGTH = ("trainer.max_epochs", "trainer.max_steps", "trainer.max_time")


def configuration(choices, overrides) -> tuple:
    """What makes two runs the same run: config-group choices and the overrides that are neither
    neutral nor the training length."""
    choices = task_choices(dict(choices or {}))
    return tuple(sorted(choices.items(), key=str)), tuple(
        overrides_without(overrides, NEUTRAL_KEYS + TRAINING_LENGTH)
    )


def overrides_without(overrides, keys: tuple[str, ...]) -> list[str]:
    """`overrides` sorted, leaving out those that set one of `keys` or a key below one."""
    return sorted(o for o in map(str, overrides or []) if not overrides_one_of(o, keys))


def overrides_one_of(override: str, keys: tuple[str, ...]) -> bool:
    """Whether `override` (`key=value`, `+key=value`, `~key`) sets one of `keys` or a key below one."""
    key = override_key(override)
    return any(key == listed or key.startswith(f"{listed}.") for listed in keys)


def latest_resumable_run(root: Path, wanted: tuple) -> Path | None:
    runs = [ckpt.parent.parent for ckpt in root.glob(f"*/{LAST_CHECKPOINT}")]
    same = [run for run in runs if _configuration_of(run) == wanted]
    return max(same, key=lambda run: (run / LAST_CHECKPOINT).stat().st_mtime, default=None)


def _configuration_of(run: Path) -> tuple | None:
    record = read_record(run)
    try:
        return configuration(record["choices"], record["overrides"])
    except (KeyError, TypeError):
        return None


def job_dir_name(job_num: int, overrides) -> str:
    """`model=cnn,seed=2`: the job's overrides but the neutral ones, sorted, as one safe directory
    name (Hydra's `override_dirname` with NEUTRAL_KEYS excluded); the job's number if none is left."""
    name = ",".join(overrides_without(overrides, NEUTRAL_KEYS)).replace("/", "-") or str(job_num)
    if len(name) > MAX_JOB_DIR_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_JOB_DIR_NAME - 9]}_{digest}"
    return name
