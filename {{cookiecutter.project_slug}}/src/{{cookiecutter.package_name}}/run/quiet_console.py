"""What of Lightning's output a run does not show: advice that does not apply here, and notes
about defaults this project sets on purpose. Lightning's wordings are matched here and nowhere
else; tests/test_quiet_console.py trains a run and fails when one of them changes and its line
comes back.

`extras.ignore_warnings=false` shows the warnings again, `extras.quiet_lightning=false` the lines.
"""

import logging
import warnings

# Warnings, by message: advice for large data sets, GPUs and SLURM that small in-memory data sets,
# CPU-only machines and a run started without srun do not need.
NOISY_WARNINGS = (
    ".*does not have many workers.*",
    # Lightning finds `srun` on PATH and cannot tell a login node's plain run from a mistake.
    ".*The `srun` command is available on your system but is not used.*",
    ".*GPU available but not used.*",
    ".*Checkpoint directory .* exists and is not empty.*",
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    # eval.py tests a checkpoint: the training callbacks whose states it holds have nothing to do.
    ".*callbacks used to create the checkpoint need to be provided.*",
)

# Log lines, by the logger that writes them and how their message starts.
NOISY_LOG_LINES = {
    "lightning.pytorch.utilities.rank_zero": (
        # Product tips: install litlogger for cloud logging, litmodels for cloud checkpoints.
        "💡 Tip: ",
        # configs/callbacks/ adds its own model summary on purpose.
        "Trainer already configured with model summary callbacks: ",
    ),
    "lightning.pytorch.trainer.connectors.checkpoint_connector": (
        # On purpose: a checkpoint keeps the loops' and callbacks' states, so a resume is exact.
        "`weights_only` was not set, defaulting to `False`.",
    ),
}


class LinesStartingWith(logging.Filter):
    """Drops the records whose message starts with one of `starts`."""

    def __init__(self, starts: tuple[str, ...]) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.starts)


# One filter per logger, so that a second run in the same process (a sweep) adds none twice.
FILTERS = {name: LinesStartingWith(starts) for name, starts in NOISY_LOG_LINES.items()}


def hide_noisy_warnings() -> None:
    for pattern in NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


def hide_noisy_log_lines(hide: bool) -> None:
    """On the loggers themselves, so the lines leave neither the console nor the run's log file."""
    for name, line_filter in FILTERS.items():
        logger = logging.getLogger(name)
        if hide:
            logger.addFilter(line_filter)
        else:
            logger.removeFilter(line_filter)
