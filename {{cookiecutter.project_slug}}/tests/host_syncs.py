"""Counting the device-to-host reads a training or validation step makes (tests/test_host_syncs.py).

On a GPU, reading a device value on the host (`.item()`, `float(t)`, `bool(t)`, `.tolist()`, a copy
to the CPU) makes the host wait for the device at that step, so the step's Python time adds to the
GPU time instead of hiding under it. A `TorchFunctionMode` sees these calls on CPU tensors too, so
a CPU test can count them: `HostSyncAudit` records each one made between a step's
`on_*_batch_start` and `on_*_batch_end`, with the innermost frame of the project that led to it.
"""

import os
import traceback
from collections import Counter
from pathlib import Path

import lightning as L
import torch
from torch.overrides import TorchFunctionMode

import {{ cookiecutter.package_name }}

PROJECT = Path({{ cookiecutter.package_name }}.__file__).resolve().parent
# The project's own per-step code, and none of: the optimizer's step counters (host-resident
# unless `capturable`/`fused`) and the data loader's bookkeeping, which the issue leaves out.
LEFT_OUT = (os.sep + os.path.join("torch", "optim") + os.sep, os.sep + os.path.join("torch", "utils", "data"))
CONVERSIONS = {
    torch.Tensor.item: "item",
    torch.Tensor.__bool__: "bool",
    torch.Tensor.__float__: "float",
    torch.Tensor.__int__: "int",
    torch.Tensor.__index__: "index",
    torch.Tensor.tolist: "tolist",
    torch.Tensor.numpy: "numpy",
    torch.Tensor.cpu: "cpu",
    # Ops whose output size depends on the values: on a GPU the host waits to learn it.
    torch.unique: "unique",
    torch.Tensor.unique: "unique",
    torch.nonzero: "nonzero",
    torch.Tensor.nonzero: "nonzero",
    torch.masked_select: "masked_select",
}


class HostReads(TorchFunctionMode):
    """While `active`: each conversion, by (what, project call site), in `project`; those no project
    frame led to (Lightning's, torch's own) in `others`. The step's own reads stay in `project`
    until `end_step` says whether the step was one where reading is expected (the log interval)."""

    def __init__(self) -> None:
        super().__init__()
        self.active = False
        self.project: Counter = Counter()
        self.at_log_interval: Counter = Counter()
        self.others: Counter = Counter()
        self.this_step: Counter = Counter()

    def end_step(self, at_log_interval: bool) -> None:
        (self.at_log_interval if at_log_interval else self.project).update(self.this_step)
        self.this_step = Counter()
        self.active = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if self.active and func in CONVERSIONS:
            self.record(CONVERSIONS[func])
        return func(*args, **(kwargs or {}))

    def record(self, what: str) -> None:
        frames = traceback.extract_stack()[:-2]
        # The innermost frame that is the project's or left out decides: a training step runs
        # inside the optimizer's step (as its closure), and the optimizer's counters are read
        # with no project frame below them.
        for frame in reversed(frames):
            if any(marker in frame.filename for marker in LEFT_OUT):
                return
            path = Path(frame.filename).resolve()
            if path.is_relative_to(PROJECT):
                self.this_step[(what, f"{path.relative_to(PROJECT)}:{frame.lineno} {frame.line}")] += 1
                return
        self.others[(what, f"{frames[-1].filename}:{frames[-1].lineno} {frames[-1].line}")] += 1


class HostSyncAudit(L.Callback):
    """Counts host reads inside training and validation steps; `steps` counts the steps seen.

    Listed after every other callback, so that their batch-end hooks run inside the window."""

    # The instances made by `instantiate` from the config, for the test to read.
    made: list["HostSyncAudit"] = []

    def __init__(self) -> None:
        self.reads = HostReads()
        self.steps = Counter()
        HostSyncAudit.made.append(self)

    def on_fit_start(self, trainer, pl_module) -> None:
        self.reads.__enter__()

    def on_fit_end(self, trainer, pl_module) -> None:
        self.reads.__exit__(None, None, None)

    def on_exception(self, trainer, pl_module, exception) -> None:
        self.reads.active = False
        self.reads.__exit__(None, None, None)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.reads.active = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.reads.end_step(at_log_interval=trainer.global_step % trainer.log_every_n_steps == 0)
        self.steps["train"] += 1

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        self.reads.active = not trainer.sanity_checking

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        if self.reads.active:
            self.steps["val"] += 1
        self.reads.end_step(at_log_interval=False)
