"""The GPU workload's host reads per step: one short project run under the project's own audit.

The audit (`tests/host_syncs.py`, via `sync_count.py`) intercepts every torch call, so it runs
apart from the timed runs: a few dozen training and validation steps of the same workload.
"""

import json
import os
import tempfile
from pathlib import Path

from project import Project
from workloads import Workload

TRAIN_STEPS, VAL_STEPS = 20, 5


def measure(project: Project, workload: Workload, values: dict[str, str], scratch: Path) -> dict:
    out = scratch / "syncs.json"
    out.unlink(missing_ok=True)
    paths = [str(project.path / "tests"), project.env["PYTHONPATH"]]
    project.train(
        *workload.project_overrides(1, **values),
        f"+trainer.limit_train_batches={TRAIN_STEPS}",
        f"+trainer.limit_val_batches={VAL_STEPS}",
        "test=false",
        "+callbacks.sync_count._target_=sync_count.SyncCount",
        f"+callbacks.sync_count.out={out}",
        log_dir=Path(tempfile.mkdtemp(dir=scratch)),
        env={"PYTHONPATH": os.pathsep.join(paths)},
    )
    return json.loads(out.read_text())
