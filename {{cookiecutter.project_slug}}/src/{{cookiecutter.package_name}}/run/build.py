"""Build the objects a config names: data, trainer, callbacks, loggers, Trainer plugins."""

from typing import Any

from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf

from ..cli.errors import one_line
from ..cli.value_checks import ConfigValueError
from .trusted_targets import instantiate


def build(cfg: DictConfig, key: str, **kwargs: Any) -> Any:
    """`instantiate` of the config under `key`; a failure names the key and what went wrong
    (`trainer: Precision 17 is invalid...`), not Hydra's wrapper around it."""
    try:
        return instantiate(OmegaConf.select(cfg, key), **kwargs)
    except Exception as error:
        # Hydra 1.3 wraps what the target raised in an InstantiationException; 1.4 lets it through.
        # Hydra's own failures (a target it cannot find) are InstantiationExceptions without a cause.
        wrapped = isinstance(error, InstantiationException) and error.__cause__ is not None
        cause = error.__cause__ if wrapped else error
        raise ConfigValueError(f"{key}: {one_line(cause)}") from cause


def build_all(cfg: DictConfig, group: str) -> list:
    """Every entry of `callbacks:` or `logger:` that has a `_target_`, in the order listed; `null`
    entries switch one off."""
    entries = cfg.get(group) or {}
    return [build(cfg, f"{group}.{name}") for name, node in entries.items() if node and "_target_" in node]


def trainer_plugins(configured) -> list | None:
    """`trainer.plugins` as configured, plus checkpoints written atomically and, under SLURM,
    Lightning's SLURM environment with its own requeueing off (launch/slurm.py)."""
    from lightning.pytorch.plugins.io import CheckpointIO

    from ..launch.slurm import slurm_environment
    from .atomic_checkpoint_io import AtomicCheckpointIO

    plugins = instantiate(configured) if configured is not None else []
    plugins = list(plugins) if isinstance(plugins, (list, tuple)) else [plugins]
    if not any(isinstance(plugin, CheckpointIO) for plugin in plugins):
        plugins.append(AtomicCheckpointIO())
    environment = slurm_environment()
    if environment is not None:
        plugins.append(environment)
    return plugins
