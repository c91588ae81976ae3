"""Where a study lives: one journal file, Optuna's JournalStorage.

A journal is an append-only log of the study's operations, written under a lock file that is
created atomically (a hard link) and broken when its holder died more than 30 s ago. Every
process that knows the path reads and writes the study: the search, the trials' jobs reporting
their epochs (joblib's processes, SLURM array tasks on other nodes when the file is on a shared
disk). SQLite would need working `fcntl()` locks, which many NFS mounts lack, and a server
database (PostgreSQL, MySQL) a server to run.
"""

from pathlib import Path

from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend


def journal_storage(path: str | Path) -> JournalStorage:
    """The study storage in the journal file `path`, created with its folder if absent."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))
