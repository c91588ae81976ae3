"""Lightning's CSVLogger, safe when a second process appends to the same `metrics.csv`.

Lightning's writer knows only the columns its own process logged: when another process (the test
stage after a DDP spawn, a resumed run) adds new columns, it rewrites the file with the new header
alone, which fails on or drops the earlier rows. This writer starts from the header already on disk.
"""

import csv

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter


class _AppendingWriter(ExperimentWriter):
    def _record_new_keys(self) -> set[str]:
        if not self.metrics_keys and self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = next(csv.reader(file), [])
        return super()._record_new_keys()

    def _check_log_dir_exists(self) -> None:
        # Appending to an existing run is the point; Lightning would warn that files get deleted.
        pass


class CSVLogger(LightningCSVLogger):
    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment
