"""`checkpoints/last.ckpt`: what `ckpt_path=last`, a re-run sweep and a requeued SLURM job resume from."""

import math
import time

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


class LastCheckpoint(ModelCheckpoint):
    """Writes `last.ckpt` at the end of an epoch once `min_interval_s` seconds have passed since the
    last write, and at the end of the epoch in which training stops (last epoch, early stopping,
    `max_steps`, `max_time`).

    A crash or preemption loses at most `min_interval_s` plus the epoch in progress. Epochs longer
    than the interval are checkpointed every epoch; short ones are not, because writing a
    checkpoint (~5 ms for a small network) costs as much as a whole epoch on a small data set.
    `min_interval_s: 0` writes after every epoch. At an epoch's end, so that a resumed run repeats
    no batch and skips none; a run that `max_time` or `max_steps` stops in the middle of an epoch
    is written where it stopped (Lightning ends that epoch there). A separate callback from
    `model_checkpoint`, whose `save_last` only writes when a new best epoch is saved.
    """

    def __init__(self, dirpath: str, min_interval_s: float = 60.0, verbose: bool = False) -> None:
        if not min_interval_s >= 0:
            raise ValueError(f"min_interval_s={min_interval_s}: give seconds >= 0 (0 writes every epoch)")
        super().__init__(
            dirpath=dirpath,
            filename="last",
            monitor=None,
            save_top_k=1,
            every_n_epochs=1,
            enable_version_counter=False,
            verbose=verbose,
        )
        self.min_interval_s = min_interval_s
        self.written_at = -math.inf

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self.written_at = time.monotonic()  # the interval counts from the start of training

    def on_train_batch_end(self, *args, **kwargs) -> None:
        pass  # never in the middle of an epoch (and no clock read or broadcast at every step)

    def _should_skip_saving_checkpoint(self, trainer: L.Trainer) -> bool:
        return super()._should_skip_saving_checkpoint(trainer) or not self._due(trainer)

    def _due(self, trainer: L.Trainer) -> bool:
        # Checkpoint callbacks run after all others: early stopping has already decided.
        last_epoch = trainer.max_epochs not in (None, -1) and trainer.current_epoch + 1 >= trainer.max_epochs
        last_step = trainer.max_steps not in (None, -1) and trainer.global_step >= trainer.max_steps
        # Rank 0's clock decides for every rank: saving is collective.
        interval_passed = trainer.strategy.broadcast(
            time.monotonic() - self.written_at >= self.min_interval_s
        )
        return trainer.should_stop or last_epoch or last_step or interval_passed

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        super()._save_checkpoint(trainer, filepath)
        self.written_at = time.monotonic()
