"""Measurement 2: how long the project takes to answer, and to start training.

`train.py --help` and `train.py --cfg job` are timed as whole processes; a separate run of each
under `python -X importtime` tells whether torch, Lightning or wandb were imported (they must
not be: neither needs them) and which imports cost the most. Time to the first training step is
the default configuration's, read by the bench_clock callback, next to the plain loop's.
"""

import json
import sys
import tempfile
from pathlib import Path

from project import BENCHMARKS, Project
from timing import summary, timed_run

HEAVY = ("torch", "lightning", "wandb")


def imports(stderr: str) -> dict[str, int]:
    """Cumulative microseconds per module from `-X importtime` output."""
    found = {}
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|", 2)
            if cumulative.strip().isdigit():
                found[name.strip()] = int(cumulative)
    return found


def heavy_imports(modules: dict[str, int]) -> list[str]:
    return sorted({name.split(".")[0] for name in modules if name.split(".")[0] in HEAVY})


def top_level_imports(stderr: str, count: int = 8) -> list[tuple[str, float]]:
    """The slowest imports that the script itself triggered (not nested in another), in ms."""
    top = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|", 2)
            # One space after the bar marks an import at the top of the tree.
            if cumulative.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
                top.append((name.strip(), int(cumulative) / 1000))
    return sorted(top, key=lambda item: -item[1])[:count]


def measure(project: Project, repeats: int) -> dict:
    results = {}
    for label, args in (("help", ["--help"]), ("cfg_job", ["--cfg", "job"])):
        walls = [project.script("train.py", *args).wall_s for _ in range(repeats)]
        traced = project.script("-X", "importtime", "train.py", *args)
        modules = imports(traced.stderr)
        results[label] = {
            "command": f"python train.py {' '.join(args)}",
            "wall_s": summary(walls),
            "imports_torch_lightning_wandb": heavy_imports(modules),
            "slowest_imports_ms": top_level_imports(traced.stderr),
        }
    results["first_step"] = _first_step(project, repeats)
    return results


def _first_step(project: Project, repeats: int) -> dict:
    """The default config (1 epoch), and the plain loop on the digits workload, to their first step."""
    project_s, plain_s = [], []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        clock, plain_out = Path(tmp) / "clock.json", Path(tmp) / "plain.json"
        for _ in range(repeats):
            project.train(
                "trainer.max_epochs=1",
                "+callbacks.bench_clock._target_=bench_clock.BenchClock",
                f"+callbacks.bench_clock.out={clock}",
            )
            project_s.append(json.loads(clock.read_text())["first_step_s"])
            timed_run(
                [sys.executable, BENCHMARKS / "plain_loop.py", "--epochs", "1", "--out", plain_out],
                cwd=Path(tmp),
            )
            plain_s.append(json.loads(plain_out.read_text())["first_step_s"])
    return {
        "command": "python train.py trainer.max_epochs=1 (default config, config tree printed)",
        "project_s": summary(project_s),
        "plain_s": summary(plain_s),
    }
