"""What the SLURM tests share: the overrides that put a sweep on a test cluster, starting one in
the background, and reading its jobs back."""

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT, run_script

# Small jobs that fit the two CPUs of a test machine; the logs go to pytest's directory.
ON_SLURM = [
    "-m",
    "hydra/launcher=slurm",
    "hydra.launcher.cpus_per_task=1",
    "hydra.launcher.mem_gb=1",
    "hydra.launcher.timeout_min=10",
    "logger=csv",
    "callbacks.progress_bar=null",
]


def run_sweep(
    log_dir: Path, *overrides: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """train.py's sweep on the cluster whose `env` it is, to its end (run_script's checks)."""
    return run_script("train.py", *ON_SLURM, *overrides, f"paths.log_dir={log_dir}", env=env, check=check)


def start_sweep(cluster, log_dir: Path, *overrides: str) -> subprocess.Popen:
    """train.py's sweep on `cluster`, running while the test acts on its jobs."""
    return subprocess.Popen(
        [
            sys.executable,
            "train.py",
            *ON_SLURM,
            *overrides,
            f"paths.log_dir={log_dir}",
            "extras.print_config=false",
        ],
        cwd=ROOT,
        env={**cluster.env, "WANDB_MODE": "offline"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def job_runs(log_dir: Path) -> list[tuple[Path, dict]]:
    """Each job's directory and run.json, in the order of their names."""
    # The one sweep directory with jobs in it. On Hydra 1.4.0rc3 submitit's folder (`.submitit/`)
    # gets a sweep directory of its own: the launcher resolves `${now:...}` in hydra.sweep.dir on
    # a copy of the config, a few milliseconds apart from the jobs' (the jobs are not affected).
    multiruns = log_dir / "train" / "multiruns"
    (sweep_dir,) = [path for path in multiruns.iterdir() if any(path.glob("*/run.json"))]
    return [(path.parent, json.loads(path.read_text())) for path in sorted(sweep_dir.glob("*/run.json"))]


def epochs_in(job_dir: Path) -> list[int]:
    with (job_dir / "history.csv").open() as history:
        return [int(row["epoch"]) for row in csv.DictReader(history)]


def wait_for(probe, timeout: float = 300.0):
    """`probe()`'s first true value, polled; a probe that fails reading a half-written file is retried."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = probe()
        except (OSError, ValueError, KeyError, StopIteration):
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise TimeoutError(f"waited {timeout} s for {probe}")
