"""Send the resolved run config to every logger, so each run's settings sit beside its curves."""

from omegaconf import DictConfig, OmegaConf


def log_config(loggers: list, cfg: DictConfig) -> None:
    # Nested, as composed: W&B shows it as a tree; CSV writes hparams.yaml; others flatten it.
    config = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    for logger in loggers:
        logger.log_hyperparams(config)
