"""A diagnostic callback: how much CPU time per epoch goes to `self.log`, the metrics and the network.

    python train.py +callbacks.call_timer._target_=call_timer.CallTimer +callbacks.call_timer.out=t.json

with `benchmarks/` on PYTHONPATH. At fit start it wraps, on this run's objects only, the module's
`log`, the `forward` of every torchmetrics metric in it, the network's `forward` and the trainer's
`save_checkpoint`, its training and validation steps, every callback's hooks and the loggers'
`log_metrics` and `save`, and adds up the CPU time (this process, all threads) spent in each during
training. Unlike cProfile it slows nothing else, so the numbers compare with the plain loop's.
"""

import json
import time
from pathlib import Path

import lightning as L


class CallTimer(L.Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.epochs = 0
        self.timing = False

    def _wrap(self, owner, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            if not self.timing:
                return original(*args, **kwargs)
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[name] = self.totals.get(name, 0.0) + time.process_time() - start
                self.calls[name] = self.calls.get(name, 0) + 1

        setattr(owner, attribute, timed)

    def on_fit_start(self, trainer, pl_module) -> None:
        from torchmetrics import Metric

        self._wrap(pl_module, "log", "LightningModule.log")
        for module in pl_module.modules():
            if isinstance(module, Metric):
                self._wrap(module, "forward", "torchmetrics forward (update + batch value)")
        if hasattr(pl_module, "net"):
            self._wrap(pl_module.net, "forward", "the network's forward")
        self._wrap(trainer, "save_checkpoint", "Trainer.save_checkpoint")
        for step in ("training_step", "validation_step"):
            self._wrap(pl_module, step, f"LightningModule.{step} (forward, loss, metrics, log)")
        for callback in trainer.callbacks:
            if callback is self or type(callback).__name__ == "BenchClock":
                continue
            name = f"callback {type(callback).__name__}"
            if type(callback).__name__ == "ModelCheckpoint" and callback.monitor is None:
                name += " (last.ckpt)"
            for hook in dir(L.Callback):
                if hook.startswith("on_") and getattr(type(callback), hook) is not getattr(L.Callback, hook):
                    self._wrap(callback, hook, f"{name}: all hooks")
        for logger in trainer.loggers:
            for method in ("log_metrics", "save"):
                self._wrap(logger, method, f"logger {type(logger).__name__}.{method}")

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.timing = True

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.epochs += 1

    def on_train_end(self, trainer, pl_module) -> None:
        self.timing = False
        per_epoch = {name: total / max(self.epochs, 1) for name, total in self.totals.items()}
        calls = {name: count / max(self.epochs, 1) for name, count in self.calls.items()}
        self.out.write_text(
            json.dumps(
                {"epochs": self.epochs, "cpu_s_per_epoch": per_epoch, "calls_per_epoch": calls}, indent=2
            )
            + "\n"
        )
