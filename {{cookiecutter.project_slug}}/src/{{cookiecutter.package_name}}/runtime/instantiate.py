"""Build the objects a config names: data, trainer, callbacks, loggers, Trainer plugins."""

import sys
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from .config_checks import ConfigValueError
from .errors import one_line


def build(cfg: DictConfig, key: str, **kwargs: Any) -> Any:
    """`instantiate` of the config under `key`; a failure names the key and what went wrong
    (`trainer: Precision 17 is invalid...`), not Hydra's wrapper around it."""
    try:
        return instantiate(OmegaConf.select(cfg, key), **kwargs)
    except InstantiationException as error:
        cause = error.__cause__ or error
        raise ConfigValueError(f"{key}: {one_line(cause)}") from cause


def build_all(cfg: DictConfig, group: str) -> list:
    """Every entry of `callbacks:` or `logger:` that has a `_target_`, in the order listed; `null`
    entries switch one off."""
    entries = cfg.get(group) or {}
    return [build(cfg, f"{group}.{name}") for name, node in entries.items() if node and "_target_" in node]


def trainer_plugins(configured) -> list | None:
    """`trainer.plugins` as configured, plus checkpoints written atomically and, under SLURM,
    Lightning's SLURM environment with its own requeueing off (runtime/slurm.py)."""
    from lightning.pytorch.plugins.io import CheckpointIO

    from .atomic_checkpoint_io import AtomicCheckpointIO
    from .slurm import slurm_environment

    plugins = instantiate(configured) if configured is not None else []
    plugins = list(plugins) if isinstance(plugins, (list, tuple)) else [plugins]
    if not any(isinstance(plugin, CheckpointIO) for plugin in plugins):
        plugins.append(AtomicCheckpointIO())
    environment = slurm_environment()
    if environment is not None:
        plugins.append(environment)
    return plugins


def finish_loggers() -> None:
    """Close the W&B run, so that the next job of a sweep starts its own run instead of reusing it.

    Never raises: it runs in a `finally`, where an error here would hide why training stopped.
    Under SLURM a preemption signals every process of the job, W&B's service among them, and the
    job must then end with Lightning's SIGTERM exit (requeued), not with a W&B connection error.
    """
    if "wandb" not in sys.modules:
        return
    try:
        sys.modules["wandb"].finish()
    except Exception as error:  # noqa: BLE001 (any failure to close is reported, not raised)
        print(f"W&B: could not close the run cleanly ({type(error).__name__}: {error})", file=sys.stderr)
