"""`history.csv` in the run directory: every epoch-level metric, one row per epoch.

`report.py` draws learning curves from it. A row is appended after each epoch (the file is rewritten
whole, written then renamed, only when a metric appears that it has no column for), so a run that
crashes keeps the history up to its last finished epoch, whatever logger is configured.
"""

import csv
import os
from pathlib import Path

import lightning as L


class EpochHistory(L.Callback):
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, float]] = []
        self.columns: list[str] = []
        self.written_columns: list[str] | None = None  # the header of the file on disk

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # By now Lightning has reduced this epoch's training and validation metrics.
        row = {"epoch": trainer.current_epoch}
        row.update(
            {name: float(value) for name, value in trainer.callback_metrics.items() if value.numel() == 1}
        )
        self.rows.append(row)
        self.columns.extend(name for name in row if name not in self.columns)
        if trainer.is_global_zero:
            self._write(row)

    def _write(self, row: dict[str, float]) -> None:
        if self.columns == self.written_columns:
            # One small write: appending costs the same at epoch 1,000 as at epoch 1.
            with open(self.path, "a", newline="") as file:
                csv.DictWriter(file, fieldnames=self.columns).writerow(row)
            return
        tmp = self.path.with_suffix(".csv.tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(tmp, self.path)
        self.written_columns = list(self.columns)

    def state_dict(self) -> dict:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        # A resumed run continues its history instead of starting a new one; its first epoch
        # rewrites the file, dropping any rows written after the checkpoint.
        self.rows = list(state_dict.get("rows", []))
        self.columns = list(dict.fromkeys(name for row in self.rows for name in row))
        self.written_columns = None
