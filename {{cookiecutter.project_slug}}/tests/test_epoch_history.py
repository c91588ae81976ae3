"""history.csv: a row appended per epoch, rewritten whole when a new metric appears."""

import csv
import os

import lightning as L
from conftest import fit_on_digits

from {{ cookiecutter.package_name }}.callbacks.epoch_history import EpochHistory


class LateMetric(L.Callback):
    """Logs `late/metric` from the second epoch on; notes the file's inode after each epoch."""

    def __init__(self, path) -> None:
        self.path, self.inodes = path, []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch >= 1:
            pl_module.log("late/metric", float(trainer.current_epoch))

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch > 0:
            self.inodes.append(os.stat(self.path).st_ino)


def test_a_metric_that_appears_later_gets_a_column_and_rows_are_appended(make_config, tmp_path):
    path = tmp_path / "history.csv"
    late = LateMetric(path)
    # late logs before the history reads
    fit_on_digits(
        make_config,
        [late, EpochHistory(str(path))],
        max_epochs=4,
        limit_train_batches=1,
        enable_checkpointing=False,
    )
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["0", "1", "2", "3"]
    assert [row["late/metric"] for row in rows] == ["", "1.0", "2.0", "3.0"]
    assert all(row["val/acc"] for row in rows)
    # After epoch 0 and 1 the file was written anew (a new column); epochs 2 and 3 appended to it.
    after_epoch_0, after_epoch_1, after_epoch_2 = late.inodes
    assert after_epoch_0 != after_epoch_1 == after_epoch_2 == os.stat(path).st_ino
