"""The baked project being measured: bake it, and run its scripts the way a user would."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from timing import BenchmarkError, Timed, timed_run

BENCHMARKS = Path(__file__).resolve().parent
TEMPLATE = BENCHMARKS.parent
# The modules of this folder that runs name as `_target_` (callbacks and the floor's module).
BENCHMARK_TARGETS = "bench_clock.* call_timer.* lean_module.* sync_count.*"


def bake_default_project(output_dir: Path) -> Path:
    """`cookiecutter --no-input` of this template: the project every user starts from."""
    from cookiecutter.main import cookiecutter

    try:
        return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir)))
    except Exception as error:  # noqa: BLE001 (Jinja, hooks, file errors: all end the benchmark alike)
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        raise BenchmarkError(f"baking {TEMPLATE} failed ({type(error).__name__}: {first_line})") from error


@dataclass
class Project:
    path: Path
    log_dir: Path  # every run writes here (paths.log_dir), never into the project's own logs/

    def __post_init__(self) -> None:
        if not (self.path / "train.py").is_file():
            raise FileNotFoundError(f"{self.path} has no train.py: give the folder of a baked project")

    @property
    def env(self) -> dict[str, str]:
        # src/ for a project that is baked but not pip-installed; benchmarks/ for the bench_clock
        # callback. W&B never blocks on a missing key or network.
        paths = [str(self.path / "src"), str(BENCHMARKS), os.environ.get("PYTHONPATH", "")]
        return {
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
            "WANDB_MODE": "offline",
            # The benchmarks' own modules, named as targets (run/trusted_targets.py in the project).
            "EXTRA_TRUSTED_TARGETS": BENCHMARK_TARGETS,
        }

    def script(
        self, name: str, *args: str, env: dict[str, str] | None = None, timeout: float = 1800
    ) -> Timed:
        """`python <name> <args>` in the project folder, timed as a whole process."""
        return timed_run(
            [sys.executable, name, *args], cwd=self.path, env={**self.env, **(env or {})}, timeout=timeout
        )

    def train(
        self,
        *overrides: str,
        log_dir: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 1800,
    ) -> Timed:
        """`python train.py <overrides>`, writing under `log_dir` (default: the benchmark's log dir)."""
        log_dir = log_dir or self.log_dir
        return self.script("train.py", *overrides, f"paths.log_dir={log_dir}", env=env, timeout=timeout)

    @staticmethod
    def single_run(log_dir: Path) -> Path:
        """The run directory of the one single run written under `log_dir`."""
        runs = sorted((log_dir / "train" / "runs").glob("*/run.json"))
        if len(runs) != 1:
            raise BenchmarkError(f"expected one run under {log_dir}, found {len(runs)}")
        return runs[0].parent
