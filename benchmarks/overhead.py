"""Measurement 1: the project's training against the plain loop, per epoch and fixed.

Both run as their own process, timed whole (start to exit), for E1 and E2 epochs:
per epoch = (T(E2) - T(E1)) / (E2 - E1) and fixed = T(E1) - E1 * per epoch, for each repeat.
The two sides alternate within each repeat, so that a busy moment of the machine falls on both.
"""

import csv
import json
import statistics
import sys
import tempfile
from pathlib import Path

from project import BENCHMARKS, Project
from timing import BenchmarkError, summary, timed_run
from workloads import Workload

# Epoch counts (E1, E2) per workload: E2 - E1 long enough that the difference dwarfs start-up noise.
# Digits epochs take ~25 ms: 160 of them between the two runs keep start-up noise (~0.2 s) to ~1 ms an epoch.
EPOCHS = {"digits-mlp": (2, 162), "digits-cnn": (2, 12), "mnist-cnn": (1, 3), "cifar-resnet": (1, 6)}
QUICK_EPOCHS = {"digits-mlp": (1, 11), "digits-cnn": (1, 4), "mnist-cnn": (1, 2), "cifar-resnet": (1, 2)}


def run_project(
    project: Project,
    workload: Workload,
    epochs: int,
    values: dict,
    scratch: Path,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> dict:
    """One project run of `workload` (and the `extra` overrides), timed whole and by its epochs."""
    log_dir, clock = Path(tempfile.mkdtemp(dir=scratch)), scratch / "clock.json"
    clock.unlink(missing_ok=True)
    timed = project.train(
        *workload.project_overrides(epochs, **values),
        *extra,
        "+callbacks.bench_clock._target_=bench_clock.BenchClock",
        f"+callbacks.bench_clock.out={clock}",
        log_dir=log_dir,
        env=env,
    )
    run_dir = project.single_run(log_dir)
    record = json.loads((run_dir / "run.json").read_text())
    with open(run_dir / "history.csv") as file:
        trained = len(list(csv.DictReader(file)))
    if record["status"] != "completed" or trained != epochs:
        raise BenchmarkError(f"{run_dir}: status {record['status']}, {trained} of {epochs} epochs trained")
    return {
        "wall_s": timed.wall_s,
        "cpu_s": timed.cpu_s,
        "max_rss_mb": timed.max_rss_mb,
        "test_acc": record["metrics"]["test/acc"],
        "test_loss": record["metrics"]["test/loss"],
        **_clock(json.loads(clock.read_text())),
    }


def run_plain(workload: Workload, epochs: int, scratch: Path, env: dict[str, str]) -> dict:
    out = scratch / "plain.json"
    widths = ["--widths", ",".join(map(str, workload.channels))] if workload.net == "resnet" else []
    timed = timed_run(
        [
            sys.executable,
            BENCHMARKS / "plain_loop.py",
            "--workload",
            workload.name,
            "--epochs",
            epochs,
            "--out",
            out,
            *widths,
        ],
        cwd=scratch,
        env=env,
    )
    result = json.loads(out.read_text())
    if len(result["history"]) != epochs:
        raise BenchmarkError(f"plain loop trained {len(result['history'])} of {epochs} epochs")
    return {
        "wall_s": timed.wall_s,
        "cpu_s": timed.cpu_s,
        "max_rss_mb": timed.max_rss_mb,
        "test_acc": result["test/acc"],
        "test_loss": result["test/loss"],
        "device": result["device"],
        "train_samples": result["train_samples"],
        "steps_per_epoch": result["steps_per_epoch"],
        **_clock(result),
    }


def _clock(record: dict) -> dict:
    # The first epoch warms caches and allocators; the in-process figure is the median of the rest.
    epochs = record["epoch_s"][1:] or record["epoch_s"]
    cpu = record["epoch_cpu_s"][1:] or record["epoch_cpu_s"]
    return {
        "first_step_s": record["first_step_s"],
        "train_end_s": record["train_end_s"],
        "test_end_s": record["test_end_s"],
        "epoch_in_process_s": statistics.median(epochs),
        "epoch_cpu_in_process_s": statistics.median(cpu),
        "torch_threads": record["torch_threads"],
    }


def measure(
    project: Project,
    workload: Workload,
    epochs: tuple[int, int],
    repeats: int,
    values: dict[str, str] | None = None,
    plain_env: dict[str, str] | None = None,
) -> dict:
    """Both sides for E1 and E2 epochs, `repeats` times; `values` fill the workload's placeholders."""
    e1, e2 = epochs
    runs: dict[str, dict[int, list[dict]]] = {"project": {e1: [], e2: []}, "plain": {e1: [], e2: []}}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        scratch = Path(tmp)
        for repeat in range(repeats):
            for length in (e1, e2):
                sides = ["plain", "project"] if (repeat + length) % 2 == 0 else ["project", "plain"]
                for side in sides:
                    if side == "plain":
                        result = run_plain(workload, length, scratch, plain_env or {})
                    else:
                        result = run_project(project, workload, length, values or {}, scratch)
                    runs[side][length].append(result)
                    print(
                        f"  {workload.name} {side:7s} {length:3d} epochs: {result['wall_s']:.2f} s, "
                        f"CPU {result['cpu_s']:.2f} s (test/acc {result['test_acc']:.4f}, "
                        f"test/loss {result['test_loss']:.4f})",
                        flush=True,
                    )
    sides = {side: _side(runs[side], e1, e2) for side in runs}
    return {
        "workload": workload.name,
        "description": workload.description,
        "epochs": [e1, e2],
        "repeats": repeats,
        "project_overrides": workload.project_overrides(e2, **(values or {})),
        **sides,
        "per_epoch_ratio": _paired(sides, "per_epoch_s", _ratio),
        "in_process_epoch_ratio": _paired(sides, "epoch_in_process_s", _ratio),
        "cpu_per_epoch_ratio": _paired(sides, "cpu_per_epoch_s", _ratio),
        "in_process_cpu_epoch_ratio": _paired(sides, "epoch_cpu_in_process_s", _ratio),
        "fixed_above_plain_s": _paired(sides, "fixed_s", lambda project, plain: project - plain),
    }


def _ratio(project: float, plain: float) -> float | None:
    # On a busy machine a per-epoch difference can come out zero or negative: no ratio then.
    return project / plain if plain > 0 else None


def _paired(sides: dict, key: str, combine) -> dict | None:
    """`combine(project, plain)` for each repeat (the two sides of a repeat ran side by side)."""
    pairs = zip(sides["project"][key]["values"], sides["plain"][key]["values"], strict=True)
    values = [value for value in (combine(project, plain) for project, plain in pairs) if value is not None]
    return summary(values) if values else None


def _side(runs: dict[int, list[dict]], e1: int, e2: int) -> dict:
    short, long = runs[e1], runs[e2]
    per_epoch = [(b["wall_s"] - a["wall_s"]) / (e2 - e1) for a, b in zip(short, long, strict=True)]
    fixed = [a["wall_s"] - e1 * epoch for a, epoch in zip(short, per_epoch, strict=True)]
    # CPU time is less disturbed by other processes than wall time: a check on a busy machine.
    cpu_per_epoch = [(b["cpu_s"] - a["cpu_s"]) / (e2 - e1) for a, b in zip(short, long, strict=True)]
    cpu_fixed = [a["cpu_s"] - e1 * epoch for a, epoch in zip(short, cpu_per_epoch, strict=True)]
    return {
        "wall_s": {
            str(e1): summary([r["wall_s"] for r in short]),
            str(e2): summary([r["wall_s"] for r in long]),
        },
        "per_epoch_s": summary(per_epoch),
        "fixed_s": summary(fixed),
        "cpu_per_epoch_s": summary(cpu_per_epoch),
        "cpu_fixed_s": summary(cpu_fixed),
        "epoch_in_process_s": summary([r["epoch_in_process_s"] for r in long]),
        "epoch_cpu_in_process_s": summary([r["epoch_cpu_in_process_s"] for r in long]),
        "first_step_s": summary([r["first_step_s"] for r in short + long]),
        # Where the E1 runs' time went: to the first step, training, testing, and after the test.
        "timeline_e1_s": {
            "to first step": summary([r["first_step_s"] for r in short]),
            "first step to end of training": summary([r["train_end_s"] - r["first_step_s"] for r in short]),
            "test (best checkpoint)": summary([r["test_end_s"] - r["train_end_s"] for r in short]),
            "after the test to exit": summary([r["wall_s"] - r["test_end_s"] for r in short]),
        },
        "test_acc": summary([r["test_acc"] for r in long]),
        "test_loss": summary([r["test_loss"] for r in long]),
        "max_rss_mb": summary([r["max_rss_mb"] for r in short + long]),
        "torch_threads": long[0]["torch_threads"],
        # The plain loop's: what both sides train on, and where.
        **{key: long[0][key] for key in ("device", "train_samples", "steps_per_epoch") if key in long[0]},
    }
