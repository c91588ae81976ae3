"""Classification: cross-entropy loss and accuracy, for any network that maps inputs to logits."""

from collections.abc import Callable, Sequence

import lightning as L
import torch
from torch import nn
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy


class ClassifierModule(L.LightningModule):
    """Logs `train/loss`, `train/acc`, `val/loss`, `val/acc`, `val/acc_best`, `test/loss`, `test/acc`.

    `net`, `optimizer` and `scheduler` arrive as factories from the config (`_partial_: true`), so
    the network is built for the data module's input shape and the optimizer for its parameters.
    """

    def __init__(
        self,
        net: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        input_shape: Sequence[int],
        num_classes: int,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        compile: bool = False,
    ) -> None:
        super().__init__()
        # A plain tuple, not the config's ListConfig: checkpoints must load with torch's weights_only.
        input_shape = tuple(input_shape)
        # The factories are recorded in the run's config; checkpoints keep only plain values.
        self.save_hyperparameters(logger=False, ignore=["net", "optimizer", "scheduler"])
        self.net = net(input_shape=input_shape, num_classes=num_classes)
        self.compiled_forward = None
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.criterion = nn.CrossEntropyLoss()
        # One metric object per stage: states must not mix between training, validation and test.
        self.train_acc, self.val_acc, self.test_acc = (
            MulticlassAccuracy(num_classes, average="micro") for _ in range(3)
        )
        self.train_loss, self.val_loss, self.test_loss = (MeanMetric() for _ in range(3))
        self.val_acc_best = MaxMetric()
        # Kept in checkpoints so that a resumed run remembers its best epoch.
        self.val_acc_best.persistent(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.compiled_forward or self.net)(x)

    def setup(self, stage: str) -> None:
        # The network's forward is compiled, not the module: checkpoints keep the plain network's
        # parameter names and load into an uncompiled model (eval.py) as well.
        if self.hparams.compile and stage == "fit" and self.compiled_forward is None:
            self.compiled_forward = torch.compile(self.net.forward)

    def on_train_start(self) -> None:
        # The sanity check ran validation on untrained weights. `val_acc_best` is not reset: the
        # sanity check never updates it, and a resumed run restores it from the checkpoint.
        self.val_loss.reset()
        self.val_acc.reset()

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        mean_loss, accuracy = getattr(self, f"{stage}_loss"), getattr(self, f"{stage}_acc")
        mean_loss(loss, weight=y.numel())
        accuracy(logits, y)
        # Epoch-level values only: a per-step log would force a device sync on every step.
        self.log(f"{stage}/loss", mean_loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log(f"{stage}/acc", accuracy, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        self.val_acc_best(self.val_acc.compute())
        self.log("val/acc_best", self.val_acc_best.compute(), sync_dist=True, prog_bar=True)

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if not self.scheduler_factory:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": "val/loss", "interval": "epoch"},
        }
