"""Lightning's MLFlowLogger, safe when parallel jobs (joblib, a job array) share one SQLite store.

The first use of a SQLite tracking store creates its tables, then the experiment; two processes
doing that at once fail with "table ... already exists". A file lock makes them take turns.
"""

import fcntl
from pathlib import Path

from lightning.pytorch.loggers import MLFlowLogger

SQLITE = "sqlite:///"


def mlflow_logger(tracking_uri: str, **kwargs) -> MLFlowLogger:
    if not tracking_uri.startswith(SQLITE):
        return MLFlowLogger(tracking_uri=tracking_uri, **kwargs)
    database = Path(tracking_uri.removeprefix(SQLITE))
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        logger = MLFlowLogger(tracking_uri=tracking_uri, **kwargs)
        # Creates the tables, the experiment and this run now, while the lock is held.
        _ = logger.experiment
    return logger
