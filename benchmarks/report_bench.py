"""Measurement 4: `report.py` over many runs: synthetic sweeps copied from one real sweep job.

One real job (`train.py -m seed=1 trainer.max_epochs=2`) gives the layout and the files a job leaves
(run.json, history.csv, .hydra/, manifest/, csv/, train.log); its checkpoints are left out, as
report.py never opens them. Copies of it make sweeps of one factor (`model.optimizer.lr`, a sweep
per value) over seeds, each copy with its own seed, overrides, output_dir and metrics (the real
ones plus an effect per level and noise), and a history with the same noise. `python report.py`
on the folder of all sweeps, with a baseline, is timed as a whole process with its peak memory.
"""

import csv
import io
import json
import random
import shutil
import tempfile
from pathlib import Path

from project import Project
from timing import BenchmarkError, summary

LEVELS = ("0.001", "0.002", "0.003", "0.005", "0.01")
EFFECT = {"0.001": -0.02, "0.002": -0.005, "0.003": 0.0, "0.005": -0.003, "0.01": -0.03}
FACTOR = "model.optimizer.lr"
EPOCHS = 2


def real_job(project: Project, scratch: Path) -> Path:
    """The directory of one real sweep job, as the project writes it."""
    project.train("-m", "seed=1", f"trainer.max_epochs={EPOCHS}", log_dir=scratch / "real")
    (job,) = [path.parent for path in (scratch / "real").glob("train/multiruns/*/*/run.json")]
    return job


def write_runs(job: Path, root: Path, count: int, seed: int = 0) -> None:
    """`count` runs in len(LEVELS) sweep folders under `root`, copied from `job` and varied."""
    rng = random.Random(seed)
    record = json.loads((job / "run.json").read_text())
    history = list(csv.DictReader(io.StringIO((job / "history.csv").read_text())))
    for index in range(count):
        level = LEVELS[index % len(LEVELS)]
        run_seed = index // len(LEVELS) + 1
        sweep = root / f"2026-01-01_00-00-00_00000{LEVELS.index(level)}"
        overrides = [f"{FACTOR}={level}", f"seed={run_seed}", f"trainer.max_epochs={EPOCHS}"]
        target = sweep / ",".join(sorted(overrides))
        shutil.copytree(job, target, ignore=shutil.ignore_patterns("checkpoints"))
        if index < len(LEVELS):
            shutil.copy(job.parent / "multirun.yaml", sweep / "multirun.yaml")
        noise = rng.gauss(0.0, 0.01)
        metrics = {
            name: _varied(name, value, EFFECT[level], noise) for name, value in record["metrics"].items()
        }
        varied = {
            **record,
            "seed": run_seed,
            "overrides": overrides,
            "output_dir": str(target),
            "metrics": metrics,
        }
        (target / "run.json").write_text(json.dumps(varied, indent=2) + "\n")
        rows = [
            {
                key: value if key == "epoch" else _varied(key, float(value), EFFECT[level], noise)
                for key, value in row.items()
            }
            for row in history
        ]
        with open(target / "history.csv", "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(history[0]))
            writer.writeheader()
            writer.writerows(rows)


def _varied(metric: str, value: float, effect: float, noise: float) -> float:
    """Accuracies moved by the level's effect plus noise, losses the other way, anything else kept."""
    if "acc" in metric:
        return value + effect + noise
    if "loss" in metric:
        return value - effect - noise
    return value


def measure(project: Project, repeats: int, count: int = 1000) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        scratch = Path(tmp)
        root = scratch / "multiruns"
        write_runs(real_job(project, scratch), root, count)
        walls, memory = [], []
        for _ in range(repeats):
            out = scratch / "report"
            shutil.rmtree(out, ignore_errors=True)
            timed = project.script("report.py", root, "--baseline", f"{FACTOR}={LEVELS[2]}", "--out", out)
            walls.append(timed.wall_s)
            memory.append(timed.max_rss_mb)
        counted = _runs_counted(out / "report.csv")
        if counted != count:
            raise BenchmarkError(f"report.py counted {counted} runs of {count} in {out / 'report.csv'}")
        return {
            "runs": count,
            "sweeps": len(LEVELS),
            "command": f"python report.py <{len(LEVELS)} sweeps> --baseline {FACTOR}={LEVELS[2]} --out <dir>",
            "wall_s": summary(walls),
            "max_rss_mb": summary(memory),
        }


def _runs_counted(report_csv: Path) -> int:
    """Completed runs that report.py counted for test/acc, over all groups."""
    with open(report_csv) as file:
        return sum(int(row["n"]) for row in csv.DictReader(file) if row["metric"] == "test/acc")
