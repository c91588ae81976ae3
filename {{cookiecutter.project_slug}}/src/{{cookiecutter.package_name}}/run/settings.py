"""Run-wide settings that are not part of the method: secrets, warnings, config printing, matmul
precision."""

import logging
from pathlib import Path

from dotenv import load_dotenv
from omegaconf import DictConfig, OmegaConf

from ..launch.ranks import is_rank_zero
from .quiet_console import hide_noisy_log_lines, hide_noisy_warnings


def apply_extras(cfg: DictConfig) -> None:
    # API keys live in a git-ignored .env, never in configs that get saved with every run.
    load_dotenv(Path(cfg.paths.root_dir) / ".env")
    extras = cfg.get("extras") or {}
    set_float32_matmul_precision(cfg.get("float32_matmul_precision", "highest"))
    print_each_log_line_once()
    if extras.get("ignore_warnings"):
        hide_noisy_warnings()
    hide_noisy_log_lines(bool(extras.get("quiet_lightning")))
    if extras.get("print_config") and is_rank_zero():
        print_config_tree(cfg, save_to=Path(cfg.paths.output_dir) / "config_tree.log")


def set_float32_matmul_precision(precision: str) -> None:
    """ "high" lets float32 matrix products use TF32 tensor cores (Ampere GPUs and later): several
    times faster, about 3 significant digits fewer. No effect on CPU."""
    import torch

    torch.set_float32_matmul_precision(precision)


def print_each_log_line_once() -> None:
    """Lightning's package logger has its own console handler; Hydra's root handlers (console and
    the run's log file) already receive every record, so without this each line shows twice."""
    if logging.getLogger().handlers:
        logging.getLogger("lightning").handlers.clear()


def print_config_tree(cfg: DictConfig, save_to: Path | None = None) -> None:
    """The resolved config as a rich tree, one branch per top-level group."""
    import rich
    import rich.syntax
    import rich.tree

    tree = rich.tree.Tree("CONFIG", guide_style="dim")
    for key, value in cfg.items():
        text = OmegaConf.to_yaml(value, resolve=True) if isinstance(value, DictConfig) else str(value)
        tree.add(str(key)).add(rich.syntax.Syntax(text, "yaml"))
    rich.print(tree)
    if save_to is not None:
        with open(save_to, "w") as file:
            rich.print(tree, file=file)
