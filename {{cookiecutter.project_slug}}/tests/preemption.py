"""A SLURM preemption as it can reach a run: SIGTERM to every process of the job, W&B's service
first. A callback that test_loggers.py puts into a real run (EXTRA_TRUSTED_TARGETS)."""

import os
import signal
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback

from {{ cookiecutter.package_name }}.launch.ddp_ranks import process_state


class ServicePreemptedFirst(Callback):
    """At training step `at_step`: SIGTERM to this process's W&B service, once it is gone to the
    process itself, as SLURM signals a preempted job's processes in no set order; then the metric
    logging that follows a step, which fails once W&B has seen its service go."""

    def __init__(self, at_step: int = 2) -> None:
        self.at_step = at_step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step != self.at_step:
            return
        services = [pid for pid in children(os.getpid()) if b"wandb" in command_line(pid)]
        assert services, "no W&B service among this process's children"
        for pid in services:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in services) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        while time.monotonic() < deadline:  # W&B notices the closed connection within milliseconds
            trainer.logger.log_metrics({"probe": 1.0}, step=trainer.global_step)
            time.sleep(0.05)
        raise TimeoutError("W&B went on logging without its service for 30 s")


def children(pid: int) -> list[int]:
    return [int(proc.name) for proc in Path("/proc").iterdir() if proc.name.isdigit() and parent(proc) == pid]


def parent(proc: Path) -> int | None:
    """The parent's pid from /proc/<pid>/stat ("pid (name) state ppid ..."; the name may hold spaces)."""
    try:
        return int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    """Running: neither gone nor a zombie waiting for its parent."""
    return process_state(pid) not in (None, "Z")
