"""Values a run cannot use, caught before anything is built, with the key and what it accepts.

Hydra accepts `trainer.max_epochs=abc` (the config has no types) and the error would surface
deep inside a library, far from the key that caused it. Keys absent from a config are skipped.
"""

import os
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf


class ConfigValueError(ValueError):
    pass


def _whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# key -> (accepts the value?, what it accepts)
CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "seed": (lambda v: v is None or _whole(v, 0), "a whole number >= 0, or null for a fresh random seed"),
    "trainer.max_epochs": (
        lambda v: v is None or v == -1 or _whole(v, 1),
        "a whole number >= 1 (-1: no limit)",
    ),
    "trainer.min_epochs": (lambda v: v is None or _whole(v, 0), "a whole number >= 0"),
    "trainer.accumulate_grad_batches": (lambda v: _whole(v, 1), "a whole number >= 1"),
    "trainer.gradient_clip_val": (
        lambda v: v is None or (_number(v) and v > 0),
        "a number > 0, or null for none",
    ),
    "trainer.num_nodes": (lambda v: _whole(v, 1), "a whole number >= 1"),
    "trainer.check_val_every_n_epoch": (lambda v: v is None or _whole(v, 1), "a whole number >= 1"),
    "trainer.log_every_n_steps": (lambda v: _whole(v, 1), "a whole number >= 1"),
    "data.batch_size": (lambda v: _whole(v, 1), "a whole number >= 1 (samples per batch and process)"),
    "data.num_workers": (lambda v: _whole(v, 0), "a whole number >= 0 (0: load in the main process)"),
    "data.val_fraction": (lambda v: _number(v) and 0 < v < 1, "a fraction between 0 and 1"),
    "data.test_fraction": (lambda v: _number(v) and 0 < v < 1, "a fraction between 0 and 1"),
    "model.optimizer.lr": (lambda v: _number(v) and v > 0, "a learning rate > 0"),
    "float32_matmul_precision": (lambda v: v in ("highest", "high", "medium"), "highest, high or medium"),
}


def check_config(cfg: DictConfig) -> None:
    """Raises ConfigValueError naming every key whose value cannot work, and what would."""
    problems = [
        f"{key}={value!r}: expected {expected}"
        for key, (accepts, expected) in CHECKS.items()
        if (value := OmegaConf.select(cfg, key, default="<absent>")) != "<absent>" and not accepts(value)
    ]
    if "trainer" in cfg:
        problems += device_problems(cfg.trainer)
    if problems:
        raise ConfigValueError("; ".join(problems))


def device_problems(trainer: DictConfig) -> list[str]:
    """More devices than this machine has, which Lightning reports in its own terms."""
    accelerator, devices = trainer.get("accelerator"), trainer.get("devices")
    wanted = len(devices) if isinstance(devices, (list, ListConfig)) else devices
    if not _whole(wanted, 1):
        return []
    if accelerator in ("gpu", "cuda"):
        import torch

        available = torch.cuda.device_count()
        if wanted > available:
            return [
                f"trainer.devices={wanted} with trainer.accelerator={accelerator}, but this machine has "
                f"{available} CUDA GPU(s): use trainer=cpu, trainer=ddp_sim, or at most {available} devices"
            ]
    if accelerator == "cpu" and wanted > (os.cpu_count() or 1):
        return [
            f"trainer.devices={wanted} CPU processes, but this machine has {os.cpu_count()} cores: "
            f"use at most {os.cpu_count()}"
        ]
    return []
