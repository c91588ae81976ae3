"""When `last.ckpt` is written: after the interval and when training stops, at an epoch's end."""

import time

import lightning as L
import pytest
import torch
from conftest import fit_on_digits
from lightning.pytorch.callbacks import EarlyStopping

from {{ cookiecutter.package_name }}.callbacks.last_checkpoint import LastCheckpoint


class SavedEpochs(L.Callback):
    """After each epoch: the epoch stored in last.ckpt (None before the first write), and when it
    was first seen."""

    def __init__(self, path, sleep_s: float = 0.0) -> None:
        self.path, self.sleep_s = path, sleep_s
        self.epochs: list[int | None] = []
        self.written_at: dict[int, float] = {}

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch > 0:
            self._read()
        time.sleep(self.sleep_s)  # stands in for a longer epoch

    def on_fit_end(self, trainer, pl_module) -> None:
        self._read()

    def _read(self) -> None:
        # Read after every hook of the epoch before (checkpoints are written in its last one).
        epoch = torch.load(self.path, weights_only=True)["epoch"] if self.path.exists() else None
        if epoch is not None and epoch not in self.written_at:
            self.written_at[epoch] = time.monotonic()
        self.epochs.append(epoch)


def fit(
    make_config,
    tmp_path,
    max_epochs: int,
    *callbacks: L.Callback,
    stop: dict | None = None,
    **last_checkpoint,
) -> SavedEpochs:
    saved = SavedEpochs(tmp_path / "checkpoints" / "last.ckpt", sleep_s=last_checkpoint.pop("sleep_s", 0.0))
    last = LastCheckpoint(dirpath=str(tmp_path / "checkpoints"), **last_checkpoint)
    # Two steps an epoch: max_steps can stop a run in the middle of one.
    fit_on_digits(
        make_config, [last, saved, *callbacks], max_epochs=max_epochs, limit_train_batches=2, **(stop or {})
    )
    return saved


def test_short_epochs_are_checkpointed_once_when_training_ends(make_config, tmp_path):
    saved = fit(make_config, tmp_path, 4)
    assert saved.epochs == [None, None, None, 3]


def test_an_interval_of_zero_checkpoints_every_epoch(make_config, tmp_path):
    saved = fit(make_config, tmp_path, 4, min_interval_s=0)
    assert saved.epochs == [0, 1, 2, 3]


def test_an_early_stopped_run_is_checkpointed_at_the_epoch_it_stopped(make_config, tmp_path):
    # No epoch improves val/loss by 10: the second epoch stops the run.
    stop = EarlyStopping(monitor="val/loss", min_delta=10.0, patience=1, mode="min")
    saved = fit(make_config, tmp_path, 20, stop)
    assert saved.epochs == [None, 1]


def test_writes_are_at_least_the_interval_apart(make_config, tmp_path):
    # Epochs of ~0.15 s against an interval of 1 s: some epochs go unwritten even on a machine
    # loaded enough to make each epoch several times longer.
    interval = 1.0
    saved = fit(make_config, tmp_path, 10, min_interval_s=interval, sleep_s=0.1)
    written = sorted(saved.written_at)
    assert written[-1] == 9 and len(written) < 10, saved.epochs
    # Consecutive writes are the interval apart, apart from the last one: training's end is always written.
    times = [saved.written_at[epoch] for epoch in written[:-1]]
    gaps = [later - earlier for earlier, later in zip(times[:-1], times[1:], strict=True)]
    assert all(gap >= interval * 0.99 for gap in gaps), gaps


@pytest.mark.parametrize(
    "stop, step",
    # Lightning cuts the epoch short and still runs its end: max_steps=5 in the third epoch, after
    # its first step; max_time (checked after every step) of 5 ms, with the first epoch 10 ms
    # longer, after the first step of all.
    [({"max_steps": 5}, 5), ({"max_time": {"seconds": 0.005}}, 1)],
    ids=["max_steps", "max_time"],
)
def test_a_run_stopped_in_the_middle_of_an_epoch_keeps_its_last_step(make_config, tmp_path, stop, step):
    fit(make_config, tmp_path, 20, stop=stop, sleep_s=0.01)
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == step


def test_a_negative_interval_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"min_interval_s=-1: give seconds >= 0"):
        LastCheckpoint(dirpath=str(tmp_path), min_interval_s=-1)
