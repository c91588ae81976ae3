"""Progress: a live bar on a terminal, one line per epoch in a log file."""

import logging
import sys
import time

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar

log = logging.getLogger(__name__)


def progress_bar(refresh_rate: int = 1) -> ProgressBar:
    """Rich's live bar when stdout is a terminal. Otherwise (a SLURM log, a pipe, CI) a live bar is
    redrawn where nobody sees it, at ~2 ms per small epoch, and its file shows only the final
    state: `EpochLines` writes one line per epoch instead."""
    if sys.stdout.isatty():
        return RichProgressBar(refresh_rate=refresh_rate)
    return EpochLines()


class EpochLines(ProgressBar):
    """`Epoch 3/29: train/loss 0.287, train/acc 0.974, val/loss 0.263, val/acc 0.952 (0.41 s)`:
    the progress-bar metrics after every training epoch, logged on rank 0 (in `train.log` too)."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        self.epoch_started = 0.0

    def disable(self) -> None:
        self.enabled = False  # Lightning disables the progress bar of ranks other than 0

    def enable(self) -> None:
        self.enabled = True

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.epoch_started = time.monotonic()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.enabled:
            return
        values = {name: value for name, value in trainer.progress_bar_metrics.items() if name != "v_num"}
        # Training's metrics first, then validation's, each in the order they were logged.
        ordered = sorted(values, key=lambda name: not name.startswith("train/"))
        metrics = ", ".join(f"{name} {values[name]:.4g}" for name in ordered)
        last = "?" if trainer.max_epochs in (None, -1) else trainer.max_epochs - 1
        seconds = time.monotonic() - self.epoch_started
        log.info(f"Epoch {trainer.current_epoch}/{last}: {metrics} ({seconds:.2f} s)")
