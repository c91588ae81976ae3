"""Build the callbacks and loggers named in a config group, in the order they are listed."""

import sys

from hydra.utils import instantiate
from omegaconf import DictConfig


def instantiate_all(group: DictConfig | None) -> list:
    """Every entry of `callbacks:` or `logger:` that has a `_target_`; `null` entries switch one off."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node and "_target_" in node]


def finish_loggers() -> None:
    """Close the W&B run, so that the next job of a sweep starts its own run instead of reusing it."""
    if "wandb" in sys.modules:
        sys.modules["wandb"].finish()
