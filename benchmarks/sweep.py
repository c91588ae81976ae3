"""Measurement 3: eight short jobs in one sweep, one after another (basic launcher) or in parallel (joblib).

joblib's loky workers set OMP_NUM_THREADS, MKL_NUM_THREADS (and OpenBLAS's and others) to
cores // n_jobs, each unless the variable is already set, so by default its jobs do not
oversubscribe the cores; torch takes its thread count from MKL's variable as well as OpenMP's
(OMP_NUM_THREADS=2 alone still gives 1 thread in a worker). The third variant exports both as the
number of cores, so that every job runs that many intra-op threads: oversubscribed. Each job's own
torch thread count is read back from the bench_clock callback.
"""

import json
import tempfile
from pathlib import Path

from project import Project
from timing import BenchmarkError, summary, usable_cores

JOBS = 8
EPOCHS = 3
DEFAULT_EPOCHS = 20  # the project's trainer.max_epochs: a sweep of jobs as `train.py -m` runs them


def variants(cores: int, oversubscribed: bool = True) -> dict[str, tuple[list[str], dict[str, str]]]:
    joblib = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={cores}"]
    launchers = {"basic": ([], {}), "joblib": (joblib, {})}
    if oversubscribed:
        threads = {"OMP_NUM_THREADS": str(cores), "MKL_NUM_THREADS": str(cores)}
        launchers[f"joblib, OMP/MKL_NUM_THREADS={cores}"] = (joblib, threads)
    return launchers


def run_sweep(project: Project, launcher: list[str], env: dict[str, str], jobs: int, epochs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        timed = project.train(
            "-m",
            f"seed={','.join(str(seed) for seed in range(1, jobs + 1))}",
            f"trainer.max_epochs={epochs}",
            *launcher,
            "+callbacks.bench_clock._target_=bench_clock.BenchClock",
            "+callbacks.bench_clock.out=${paths.output_dir}/bench_clock.json",
            log_dir=Path(tmp),
            env=env,
        )
        job_dirs = [path.parent for path in Path(tmp).glob("train/multiruns/*/*/run.json")]
        records = [json.loads((job / "run.json").read_text()) for job in job_dirs]
        completed = sum(record["status"] == "completed" for record in records)
        if completed != jobs:
            raise BenchmarkError(f"sweep with {launcher or 'basic'}: {completed} of {jobs} jobs completed")
        threads = sorted(
            {json.loads((job / "bench_clock.json").read_text())["torch_threads"] for job in job_dirs}
        )
        return {
            "wall_s": timed.wall_s,
            "job_s": [record["duration_s"] for record in records],
            "torch_threads_per_job": threads,
        }


def measure(project: Project, repeats: int, jobs: int = JOBS, epochs: int = EPOCHS) -> dict:
    cores = usable_cores()
    results: dict = {"jobs": jobs, "epochs": epochs, "cores": cores, "variants": {}}
    walls: dict[str, list[float]] = {}
    for _ in range(repeats):
        # Oversubscribed only with short jobs: it shows the cause; with long jobs it takes minutes.
        for name, (launcher, env) in variants(cores, oversubscribed=epochs == EPOCHS).items():
            run = run_sweep(project, launcher, env, jobs, epochs)
            walls.setdefault(name, []).append(run["wall_s"])
            print(
                f"  sweep {name}: {run['wall_s']:.1f} s, torch threads {run['torch_threads_per_job']}",
                flush=True,
            )
            entry = results["variants"].setdefault(
                name,
                {"overrides": launcher, "env": env, "torch_threads_per_job": run["torch_threads_per_job"]},
            )
            entry.setdefault("job_s", []).extend(run["job_s"])
    for name, values in walls.items():
        entry = results["variants"][name]
        entry["wall_s"] = summary(values)
        entry["job_s"] = summary(entry["job_s"])
        # Paired by repeat: the basic sweep of the same round.
        entry["speedup"] = summary([basic / wall for basic, wall in zip(walls["basic"], values, strict=True)])
    return results
