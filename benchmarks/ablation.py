"""Which part of the project's default set-up costs what per epoch: switch one thing off at a time.

Each variant is the digits workload with one callback, the logger or the progress bar removed, or
everything removed ("bare": the project's LightningModule and data module in a Trainer with no
callbacks, logger, progress bar, checkpointing or model summary). The per-epoch numbers are the
bench_clock callback's, in process: the fastest epoch's wall time and, less disturbed by other
work on the machine, its CPU time. The plain loop's own in-process numbers are the floor.
Then call_timer.py's CPU time per epoch inside each part of the default set-up. Diagnostic: not
part of `make bench`.
"""

import json
import sys
import tempfile
from pathlib import Path

from project import BENCHMARKS, Project
from timing import summary, timed_run
from workloads import WORKLOADS

EPOCHS = 16
# Removing a checkpoint callback alone makes Lightning add its own; removing the progress bar
# alone makes it add a TQDM one. The trainer flags below keep those defaults away.
NO_CHECKPOINTS = [
    "callbacks.model_checkpoint=null",
    "callbacks.last_checkpoint=null",
    "+trainer.enable_checkpointing=false",
]
NO_PROGRESS_BAR = ["callbacks.progress_bar=null", "+trainer.enable_progress_bar=false"]
BARE = [
    "callbacks=none",
    "~logger",
    "+trainer.enable_checkpointing=false",
    "+trainer.enable_progress_bar=false",
    "+trainer.enable_model_summary=false",
    "trainer.profiler=null",  # Lightning's default profiler, not the project's NoProfiler
]
LEAN = "model._target_=lean_module.EpochEndLoggingClassifier"
TENSOR_SUMS = "model._target_=lean_module.TensorSumClassifier"
VARIANTS = {
    "default": [],
    "no progress bar": NO_PROGRESS_BAR,
    "no checkpoints (best and last)": NO_CHECKPOINTS,
    "no last.ckpt only": ["callbacks.last_checkpoint=null"],
    "no non_finite_loss": ["callbacks.non_finite_loss=null"],
    "no epoch_history": ["callbacks.epoch_history=null"],
    "no lr_monitor": ["callbacks.lr_monitor=null"],
    "no early_stopping": ["callbacks.early_stopping=null"],
    "no random_state": ["callbacks.random_state=null"],
    "Lightning's default profiler (not NoProfiler)": ["trainer.profiler=null"],
    "no logger (CSV) nor lr_monitor": ["~logger", "callbacks.lr_monitor=null"],
    "bare Lightning (nothing of the above)": BARE,
    "metrics logged once per epoch (lean_module.py)": [LEAN],
    "bare Lightning, metrics logged once per epoch": [*BARE, LEAN],
    "bare Lightning, metrics as plain_loop.py sums them (Lightning's floor)": [*BARE, TENSOR_SUMS],
}


def in_process(record: dict) -> tuple[float, float]:
    """The fastest epoch's wall and CPU seconds, the first (warm-up) epoch left out: other work on
    the machine only ever adds time, so the minimum is the least disturbed estimate (as timeit's)."""
    return min(record["epoch_s"][1:]), min(record["epoch_cpu_s"][1:])


def call_costs(project: Project, repeats: int, epochs: int = EPOCHS) -> dict:
    """CPU time per epoch inside the module's steps, `log`, metrics, network, checkpoint saves, each
    callback and the logger (call_timer.py), in the default set-up."""
    workload = WORKLOADS["digits-mlp"]
    costs: dict[str, list[float]] = {}
    calls: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        out = Path(tmp) / "calls.json"
        for _ in range(repeats):
            project.train(
                *workload.project_overrides(epochs),
                "+callbacks.call_timer._target_=call_timer.CallTimer",
                f"+callbacks.call_timer.out={out}",
                log_dir=Path(tempfile.mkdtemp(dir=tmp)),
            )
            record = json.loads(out.read_text())
            for name, seconds in record["cpu_s_per_epoch"].items():
                costs.setdefault(name, []).append(seconds)
            calls.update(record["calls_per_epoch"])
    return {
        name: {"cpu_s_per_epoch": summary(values), "calls_per_epoch": calls[name]}
        for name, values in sorted(costs.items(), key=lambda item: -max(item[1]))
    }


def measure(project: Project, repeats: int, epochs: int = EPOCHS) -> dict:
    workload = WORKLOADS["digits-mlp"]
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ablation-") as tmp:
        clock = Path(tmp) / "clock.json"
        for _ in range(repeats):
            for name, overrides in VARIANTS.items():
                project.train(
                    *workload.project_overrides(epochs),
                    *overrides,
                    "+callbacks.bench_clock._target_=bench_clock.BenchClock",
                    f"+callbacks.bench_clock.out={clock}",
                    log_dir=Path(tempfile.mkdtemp(dir=tmp)),
                )
                wall, cpu = in_process(json.loads(clock.read_text()))
                walls.setdefault(name, []).append(wall)
                cpus.setdefault(name, []).append(cpu)
                print(f"  {name}: {wall * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms per epoch", flush=True)
            plain_out = Path(tmp) / "plain.json"
            timed_run(
                [sys.executable, BENCHMARKS / "plain_loop.py", "--epochs", epochs, "--out", plain_out],
                cwd=Path(tmp),
            )
            wall, cpu = in_process(json.loads(plain_out.read_text()))
            walls.setdefault("plain loop", []).append(wall)
            cpus.setdefault("plain loop", []).append(cpu)
            print(f"  plain loop: {wall * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms per epoch", flush=True)
    return {
        "workload": workload.name,
        "epochs": epochs,
        "calls": call_costs(project, repeats, epochs),
        "variants": {
            name: {
                "overrides": VARIANTS.get(name, []),
                "epoch_s": summary(walls[name]),
                "epoch_cpu_s": summary(cpus[name]),
            }
            for name in walls
        },
    }
