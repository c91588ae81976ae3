"""A diagnostic stand-in for the project's ClassifierModule: the same training, metrics logged once per epoch.

    python train.py model._target_=lean_module.EpochEndLoggingClassifier   # benchmarks/ on PYTHONPATH

The project's module logs its torchmetrics objects with `self.log(name, metric)` on every step;
Lightning then moves each metric object to the device on every call (`_ResultMetric.to`, an
`nn.Module.to` over the metric's states). This module updates the same kind of metrics on every
step but logs their computed values once per epoch, so the ablation can tell how much of the
per-epoch overhead is that per-step logging. Not a suggestion for the project's code as it is.

`TensorSumClassifier` goes further, to the floor of any LightningModule: no torchmetrics at all,
loss and correct predictions summed in plain tensors exactly as `plain_loop.py` sums them. In a
bare Trainer, what it costs beyond the plain loop is Lightning's loop alone.
"""

import lightning as L
import torch
from torch import nn
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy

STAGES = ("train", "val", "test")


class _Classifier(L.LightningModule):
    """The network, the loss, the optimiser and the steps: what both stand-ins share."""

    task = "classification"  # what the project's model building checks against the data

    def __init__(self, net, optimizer, input_shape, num_outputs, scheduler=None) -> None:
        super().__init__()
        self.net = net(input_shape=tuple(input_shape), num_outputs=num_outputs)
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch, stage: str) -> torch.Tensor:
        raise NotImplementedError

    def _log_epoch(self, stage: str) -> None:
        raise NotImplementedError

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if not self.scheduler_factory:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


class EpochEndLoggingClassifier(_Classifier):
    def __init__(self, net, optimizer, input_shape, num_outputs, scheduler=None, compile=False) -> None:
        super().__init__(net, optimizer, input_shape, num_outputs, scheduler)
        # Keyed "<stage>_": a ModuleDict key may not shadow a Module method such as train().
        self.losses = nn.ModuleDict({f"{stage}_": MeanMetric() for stage in STAGES})
        self.accuracies = nn.ModuleDict(
            {f"{stage}_": MulticlassAccuracy(num_outputs, average="micro") for stage in STAGES}
        )
        self.val_acc_best = MaxMetric()

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        self.losses[f"{stage}_"].update(loss.detach(), weight=y.numel())
        self.accuracies[f"{stage}_"].update(logits.detach(), y)
        return loss

    def _log_epoch(self, stage: str) -> None:
        self.log(f"{stage}/loss", self.losses[f"{stage}_"].compute(), prog_bar=True)
        self.log(f"{stage}/acc", self.accuracies[f"{stage}_"].compute(), prog_bar=True)
        if stage == "val":
            self.val_acc_best(self.accuracies[f"{stage}_"].compute())
            self.log("val/acc_best", self.val_acc_best.compute(), prog_bar=True)
        self.losses[f"{stage}_"].reset()
        self.accuracies[f"{stage}_"].reset()

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self.losses["val_"].reset()
            self.accuracies["val_"].reset()
            return
        self._log_epoch("val")


class TensorSumClassifier(_Classifier):
    """Loss and correct predictions summed in tensors as plain_loop.py sums them, the best
    validation accuracy a float: no torchmetrics object at all."""

    def __init__(self, net, optimizer, input_shape, num_outputs, scheduler=None, compile=False) -> None:
        super().__init__(net, optimizer, input_shape, num_outputs, scheduler)
        self.sums = {stage: self._zeros() for stage in STAGES}
        self.val_acc_best = 0.0

    @staticmethod
    def _zeros() -> list:
        return [torch.zeros(()), torch.zeros((), dtype=torch.long), 0]

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        sums = self.sums[stage]
        sums[0] += loss.detach() * len(y)
        sums[1] += (logits.detach().argmax(1) == y).sum()
        sums[2] += len(y)
        return loss

    def _log_epoch(self, stage: str) -> None:
        loss_sum, correct, count = self.sums[stage]
        self.log(f"{stage}/loss", float(loss_sum) / max(count, 1), prog_bar=True)
        acc = float(correct) / max(count, 1)
        self.log(f"{stage}/acc", acc, prog_bar=True)
        if stage == "val":
            self.val_acc_best = max(self.val_acc_best, acc)
            self.log("val/acc_best", self.val_acc_best, prog_bar=True)
        self.sums[stage] = self._zeros()

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self.sums["val"] = self._zeros()
            return
        self._log_epoch("val")
