"""`checkpoints/last.ckpt`: what `ckpt_path=last`, a re-run sweep and a requeued SLURM job resume from."""

import math
import os
import time

import lightning as L
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.utilities import rank_zero_info


class LastCheckpoint(Checkpoint):
    """Writes `last.ckpt` at the end of an epoch once `min_interval_s` seconds have passed since the
    last write, and at the end of the epoch in which training stops (last epoch, early stopping,
    `max_steps`, `max_time`).

    A crash or preemption loses at most `min_interval_s` plus the epoch in progress. Epochs longer
    than the interval are checkpointed every epoch; short ones are not, because writing a
    checkpoint (~5 ms for a small network) costs as much as a whole epoch on a small data set.
    `min_interval_s: 0` writes after every epoch. At an epoch's end, so that a resumed run repeats
    no batch and skips none; a run that `max_time` or `max_steps` stops in the middle of an epoch
    is written where it stopped (Lightning ends that epoch there). A `Checkpoint`, so Lightning
    runs it after every other callback's epoch end: early stopping has decided by then.
    """

    def __init__(self, dirpath: str, min_interval_s: float = 60.0, verbose: bool = False) -> None:
        if not min_interval_s >= 0:
            raise ValueError(f"min_interval_s={min_interval_s}: give seconds >= 0 (0 writes every epoch)")
        self.path = os.path.join(dirpath, "last.ckpt")  # a string: `s3://...` stays a URL
        self.min_interval_s = min_interval_s
        self.verbose = verbose
        self.written_at = -math.inf
        self.written_step: int | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.written_at = time.monotonic()  # the interval counts from the start of training

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.fast_dev_run or trainer.sanity_checking or self.written_step == trainer.global_step:
            return
        if self._due(trainer):
            trainer.save_checkpoint(self.path)  # on every rank: saving is collective
            self.written_at, self.written_step = time.monotonic(), trainer.global_step
            if self.verbose:
                rank_zero_info(f"Epoch {trainer.current_epoch}: saved {self.path}")

    def _due(self, trainer: L.Trainer) -> bool:
        last_epoch = trainer.max_epochs not in (None, -1) and trainer.current_epoch + 1 >= trainer.max_epochs
        last_step = trainer.max_steps not in (None, -1) and trainer.global_step >= trainer.max_steps
        # Rank 0's clock decides for every rank.
        interval_passed = trainer.strategy.broadcast(
            time.monotonic() - self.written_at >= self.min_interval_s
        )
        return trainer.should_stop or last_epoch or last_step or interval_passed
