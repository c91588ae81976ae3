"""Which searches are alive: a lock file per search, held for as long as it runs.

Optuna's heartbeats, which fail the trials of a dead process, need an RDB storage; a journal file
has none. Here each search holds an exclusive `flock` on `<study dir>/searches/<id>.lock` and
marks each trial it asks with its id. The kernel drops the lock when the process ends, however it
ends (SIGKILL, a lost node), so the next search can tell a dead search's RUNNING trials, whose
jobs died with it or will never be told, from those of a search that still runs beside it.
`flock` works across the nodes of NFSv4 and of Lustre mounted with `flock`.
"""

import fcntl
import os
import socket
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import optuna
from optuna.trial import TrialState

# The trial's user attribute that names the search that asked it.
SEARCH_ATTR = "search"
LEASES = "searches"
# A search marks its trial right after asking it: an unmarked trial older than this is a dead one's.
UNMARKED_GRACE = timedelta(minutes=1)


class SearchLease:
    """Held while a search runs: `with SearchLease(study_dir) as lease: ... lease.id ...`."""

    def __init__(self, study_dir: Path) -> None:
        self.folder = Path(study_dir) / LEASES
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._file = None

    def __enter__(self) -> "SearchLease":
        self.folder.mkdir(parents=True, exist_ok=True)
        self._file = open(self.folder / f"{self.id}.lock", "w")  # noqa: SIM115 (held until exit)
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return self

    def __exit__(self, *exc) -> None:
        (self.folder / f"{self.id}.lock").unlink(missing_ok=True)
        self._file.close()


def search_is_alive(folder: Path, search_id: str) -> bool:
    """Whether the search `search_id` still holds its lock."""
    path = folder / f"{search_id}.lock"
    try:
        with open(path) as file:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False  # it ended: its trials were told, or it never started
    except BlockingIOError:
        return True
    path.unlink(missing_ok=True)  # its holder is gone
    return False


def fail_trials_of_dead_searches(study: optuna.Study, study_dir: Path) -> list[int]:
    """Marks FAIL each RUNNING trial whose search is no longer alive; their numbers."""
    folder = Path(study_dir) / LEASES
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get(SEARCH_ATTR)
        if owner is None and datetime.now() - trial.datetime_start < UNMARKED_GRACE:
            continue
        if owner is not None and search_is_alive(folder, owner):
            continue
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        failed.append(trial.number)
    return failed
