"""A callback the GPU benchmark adds to one short project run: host reads of device values per step.

    python train.py +callbacks.sync_count._target_=sync_count.SyncCount +callbacks.sync_count.out=s.json

with the project's `tests/` and `benchmarks/` on PYTHONPATH. It is the project's own audit
(`tests/host_syncs.py`, the one its test suite runs on CPU), writing what it counted to a file.
The audit sees every torch call, which slows the steps: it never runs in a timed run.
"""

import json
from pathlib import Path

from host_syncs import HostSyncAudit


class SyncCount(HostSyncAudit):
    def __init__(self, out: str) -> None:
        super().__init__()
        self.out = Path(out)

    def on_fit_end(self, trainer, pl_module) -> None:
        super().on_fit_end(trainer, pl_module)
        steps = sum(self.steps.values())

        def listed(counter) -> dict[str, int]:
            return {f"{what} at {site}": count for (what, site), count in counter.most_common()}

        self.out.write_text(
            json.dumps(
                {
                    "steps": dict(self.steps),
                    "project_reads_per_step": sum(self.reads.project.values()) / max(steps, 1),
                    "other_reads_per_step": sum(self.reads.others.values()) / max(steps, 1),
                    "reads_at_log_interval": sum(self.reads.at_log_interval.values()),
                    "project_reads": listed(self.reads.project),
                    "other_reads": listed(self.reads.others),
                    "at_log_interval": listed(self.reads.at_log_interval),
                },
                indent=2,
            )
            + "\n"
        )
