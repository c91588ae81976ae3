"""Shared by the measurements: time a whole process, summarise repeats, describe the machine."""

import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

T0_ENV = "BENCH_T0"


class BenchmarkError(RuntimeError):
    """A benchmarked command failed or produced something other than expected; the message says which."""


@dataclass
class Timed:
    wall_s: float
    max_rss_mb: float  # the process's own peak resident memory (ru_maxrss of the waited-for child)
    cpu_s: float  # user + system CPU time of the process and the children it waited for
    stdout: str
    stderr: str


def timed_run(args: list, cwd: Path, env: dict[str, str] | None = None, timeout: float = 1800) -> Timed:
    """Run `args` to completion: its wall time from just before the start to its exit, and its peak memory.

    The child finds the start time in BENCH_T0, so that it can report when it reached a point
    (the first training step) on the same clock. A non-zero exit raises with the output's tail.
    """
    args = [str(arg) for arg in args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.time()
        start = time.perf_counter()
        process = subprocess.Popen(
            args, cwd=cwd, stdout=out, stderr=err, env={**os.environ, **(env or {}), T0_ENV: repr(t0)}
        )
        try:
            status, usage = _wait(process.pid, timeout)
        except TimeoutError:
            process.kill()
            process.wait()
            raise BenchmarkError(f"{' '.join(args)} took more than {timeout:.0f} s") from None
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        timed = Timed(wall, usage.ru_maxrss / 1024, cpu, out.read(), err.read())
    if process.returncode != 0:
        output = f"{timed.stdout[-3000:]}\n{timed.stderr[-3000:]}"
        raise BenchmarkError(f"{' '.join(args)} exited with {process.returncode}:\n{output}")
    return timed


def _wait(pid: int, timeout: float):
    """os.wait4, which also gives the child's resource usage, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            return status, usage
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.005)


def summary(values: list[float]) -> dict:
    """Median, min and max of repeated measurements, with the values themselves."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": list(values),
    }


def fmt(stats: dict | None, unit: str = "s", digits: int = 3) -> str:
    """`1.23 s [1.10–1.40]`: the median, then min–max when there was more than one run.

    Units: s, ms (from seconds), us (already in microseconds), MB, x (a ratio), "" (a plain number).
    """
    if not stats:
        return "n/a"
    scale = {"s": 1.0, "ms": 1000.0, "us": 1.0, "x": 1.0, "MB": 1.0, "": 1.0}[unit]
    median, low, high = (_number(stats[key] * scale, digits) for key in ("median", "min", "max"))
    suffix = {"x": "×", "": "", "us": " µs"}.get(unit, f" {unit}")
    return f"{median}{suffix}" if stats["n"] == 1 else f"{median}{suffix} [{low}–{high}]"


def _number(value: float, digits: int) -> str:
    # `digits` significant digits, but never an exponent for large values (8430 ms, not 8.43e+03).
    return f"{value:.0f}" if abs(value) >= 10**digits else f"{value:.{digits}g}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    """What the numbers were measured on (no torch import: the versions come from package metadata)."""
    return {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        **{
            name: version(name)
            for name in ("torch", "lightning", "torchmetrics", "hydra-core", "hydra-joblib-launcher", "wandb")
        },
        "load_average_at_start": os.getloadavg(),
    }
