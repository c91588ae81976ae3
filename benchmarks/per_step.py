"""Measurement 2: the host's work per step, where steps are too small to hide it.

The digits MLP at batch 8 (157 training and 34 validation steps an epoch) on three sides, each
its own process, timed in process by its fastest epoch (the first left out as warm-up):
- the plain loop (`plain_loop.py`);
- Lightning's floor: the project's train.py with no callback, logger, progress bar, checkpoint or
  model summary, and `lean_module.TensorSumClassifier` (loss and correct predictions summed in
  tensors as the plain loop sums them): what any LightningModule costs;
- the default project (its callbacks, CSV logger and torchmetrics).
Per step = (epoch time − the plain loop's) ÷ steps per epoch, per repeat, the three sides
alternating within a repeat; the project's µs per step above the floor's is given beside the
ratio, which divides one small difference by another. The fastest epoch, as timeit takes the
fastest run: on a shared machine, other work only ever adds time, and the epochs of one process
vary by a third (2026-12-03). One torch thread on every side: a batch of 8 gains nothing from a
second thread, whose spinning would count as CPU time.
"""

import json
import sys
import tempfile
from pathlib import Path

from project import BENCHMARKS, Project
from timing import BenchmarkError, summary, timed_run
from workloads import WORKLOADS

WORKLOAD = "digits-mlp-b8"
EPOCHS, QUICK_EPOCHS = 11, 3
THREADS = {"OMP_NUM_THREADS": "1"}
FLOOR = (
    "callbacks=none",
    "~logger",
    "+trainer.enable_checkpointing=false",
    "+trainer.enable_progress_bar=false",
    "+trainer.enable_model_summary=false",
    # Lightning's default profiler, not the project's NoProfiler: the floor is a bare Trainer.
    "trainer.profiler=null",
    "model._target_=lean_module.TensorSumClassifier",
)
SIDES = {"plain loop": None, "floor": FLOOR, "project": ()}


def _epochs(clock: dict, epochs: int, side: str) -> tuple[float, float]:
    """The fastest epoch after the first in wall seconds, and in CPU seconds (each its own minimum)."""
    if len(clock["epoch_s"]) != epochs:
        raise BenchmarkError(f"{side}: {len(clock['epoch_s'])} of {epochs} epochs timed")
    return min(clock["epoch_s"][1:]), min(clock["epoch_cpu_s"][1:])


def run_side(project: Project, side: str, epochs: int, scratch: Path) -> tuple[float, float, dict]:
    out = scratch / "clock.json"
    out.unlink(missing_ok=True)
    workload = WORKLOADS[WORKLOAD]
    if SIDES[side] is None:
        command = [sys.executable, BENCHMARKS / "plain_loop.py", "--workload", WORKLOAD]
        timed_run([*command, "--epochs", epochs, "--out", out], cwd=scratch, env=THREADS)
    else:
        project.train(
            *workload.project_overrides(epochs),
            *SIDES[side],
            "+callbacks.bench_clock._target_=bench_clock.BenchClock",
            f"+callbacks.bench_clock.out={out}",
            log_dir=Path(tempfile.mkdtemp(dir=scratch)),
            env=THREADS,
        )
    clock = json.loads(out.read_text())
    return (*_epochs(clock, epochs, side), clock)


def measure(project: Project, repeats: int, epochs: int = EPOCHS) -> dict:
    if epochs < 2:
        raise BenchmarkError(f"per step: {epochs} epochs, need 2 or more (the first is warm-up)")
    wall: dict[str, list[float]] = {side: [] for side in SIDES}
    cpu: dict[str, list[float]] = {side: [] for side in SIDES}
    steps = None
    with tempfile.TemporaryDirectory(prefix="bench-per-step-") as tmp:
        scratch = Path(tmp)
        for repeat in range(repeats):
            order = list(SIDES)[repeat % 3 :] + list(SIDES)[: repeat % 3]
            for side in order:
                epoch_wall, epoch_cpu, clock = run_side(project, side, epochs, scratch)
                wall[side].append(epoch_wall)
                cpu[side].append(epoch_cpu)
                steps = clock.get("steps_per_epoch", steps)
                wall_ms, cpu_ms = epoch_wall * 1000, epoch_cpu * 1000
                print(f"  {WORKLOAD} {side}: {wall_ms:.1f} ms per epoch, CPU {cpu_ms:.1f} ms", flush=True)
    result = {"workload": WORKLOAD, "epochs": epochs, "repeats": repeats, "steps_per_epoch": steps}
    for name, times in (("wall", wall), ("cpu", cpu)):
        plain = times["plain loop"]
        above = {
            side: [(t - p) / steps * 1e6 for t, p in zip(times[side], plain, strict=True)]
            for side in ("floor", "project")
        }
        ratios = [
            project_us / floor_us
            for project_us, floor_us in zip(above["project"], above["floor"], strict=True)
            if floor_us > 0
        ]
        project_above_floor = [p - f for p, f in zip(above["project"], above["floor"], strict=True)]
        result[name] = {
            "epoch_s": {side: summary(values) for side, values in times.items()},
            "us_per_step_above_plain": {side: summary(values) for side, values in above.items()},
            "project_us_per_step_above_floor": summary(project_above_floor),
            "project_over_floor": summary(ratios) if ratios else None,
        }
    return result
