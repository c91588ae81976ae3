"""`history.csv` in the run directory: every epoch-level metric, one row per epoch.

`report.py` draws learning curves from it. Rewritten whole after each epoch, so a run that crashes
keeps the history up to its last finished epoch, whatever logger is configured.
"""

import csv
import os
from pathlib import Path

import lightning as L


class EpochHistory(L.Callback):
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # By now Lightning has reduced this epoch's training and validation metrics.
        row = {"epoch": trainer.current_epoch}
        row.update(
            {name: float(value) for name, value in trainer.callback_metrics.items() if value.numel() == 1}
        )
        self.rows.append(row)
        if trainer.is_global_zero:
            self._write()

    def _write(self) -> None:
        columns = list(dict.fromkeys(name for row in self.rows for name in row))
        tmp = self.path.with_suffix(".csv.tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(tmp, self.path)

    def state_dict(self) -> dict:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        # A resumed run continues its history instead of starting a new one.
        self.rows = list(state_dict.get("rows", []))
