"""A callback the benchmark adds to the project's runs: when training started and how long each epoch took.

    python train.py +callbacks.bench_clock._target_=bench_clock.BenchClock +callbacks.bench_clock.out=t.json

with `benchmarks/` on PYTHONPATH and `BENCH_T0` (the harness's `time.time()` just before it
started the process) in the environment. It changes nothing in the run; it costs two clock reads per
epoch and writes its small JSON file when training and testing end.
"""

import json
import os
import time
from itertools import pairwise
from pathlib import Path

import lightning as L

T0_ENV = "BENCH_T0"


class BenchClock(L.Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)
        self.t0 = float(os.environ.get(T0_ENV, time.time()))
        self.first_step_s: float | None = None
        self.epoch_starts: list[float] = []
        self.epoch_cpu_starts: list[float] = []
        self.train_end: float | None = None
        self.train_cpu_end: float | None = None
        self.train_end_s: float | None = None
        self.test_end_s: float | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self.first_step_s is None:
            self.first_step_s = time.time() - self.t0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epoch_starts.append(time.perf_counter())
        self.epoch_cpu_starts.append(time.process_time())

    def on_train_end(self, trainer, pl_module) -> None:
        self.train_end = time.perf_counter()
        self.train_cpu_end = time.process_time()
        self.train_end_s = time.time() - self.t0
        self._write()

    def on_test_end(self, trainer, pl_module) -> None:
        self.test_end_s = time.time() - self.t0
        self._write()

    def _write(self) -> None:
        import torch

        marks = [*self.epoch_starts, self.train_end] if self.train_end else self.epoch_starts
        cpu_marks = [*self.epoch_cpu_starts, self.train_cpu_end] if self.train_end else self.epoch_cpu_starts
        record = {
            "first_step_s": self.first_step_s,
            # From the start of one epoch to the next: training, validation, checkpoints, logging.
            "epoch_s": [later - earlier for earlier, later in pairwise(marks)],
            # The same in CPU time of this process (all its threads): what other work cannot inflate.
            "epoch_cpu_s": [later - earlier for earlier, later in pairwise(cpu_marks)],
            # Seconds since the process was started, like first_step_s.
            "train_end_s": self.train_end_s,
            "test_end_s": self.test_end_s,
            "torch_threads": torch.get_num_threads(),
        }
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(record, indent=2) + "\n")
