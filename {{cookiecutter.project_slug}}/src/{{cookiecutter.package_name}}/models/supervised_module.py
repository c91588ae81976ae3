"""What classification and regression share: the network, the optimiser, compilation, epoch metrics."""

from collections.abc import Callable, Sequence

import lightning as L
import torch
from torch import nn
from torchmetrics import MaxMetric, MetricCollection

from .weighted_mean import WeightedMean


class SupervisedModule(L.LightningModule):
    """A network trained on (input, target) batches with a loss, and epoch-level metrics per stage.

    `net`, `optimizer` and `scheduler` arrive as factories from the config (`_partial_: true`), so
    the network is built for the data module's input shape and the optimizer for its parameters.
    Subclasses give the loss (`criterion`), the metrics of one stage (`make_metrics`) and the
    validation metric whose best value is tracked (`monitor`, higher is better): it is logged as
    `val/<monitor>_best`, what checkpoints, early stopping and sweeps follow. `task` is the kind of
    data it learns from, as the data module's contract names it (data/contract.py).
    """

    task: str
    monitor: str

    def __init__(
        self,
        net: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        input_shape: Sequence[int],
        num_outputs: int,
        criterion: nn.Module,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        compile: bool = False,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        # The factories are recorded in the run's config; checkpoints keep only plain values (the
        # subclasses' arguments too, which Lightning collects from their frames).
        self.save_hyperparameters(logger=False, ignore=["net", "optimizer", "scheduler", "criterion"])
        self.net = net(input_shape=tuple(input_shape), num_outputs=num_outputs)
        if channels_last:
            # NHWC memory layout: faster convolutions on tensor-core GPUs, above all in mixed precision.
            self.net = self.net.to(memory_format=torch.channels_last)
        self.compiled_forward = None
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.criterion = criterion
        # One collection per stage: states must not mix between training, validation and test.
        self.train_metrics, self.val_metrics, self.test_metrics = (
            MetricCollection(self.make_metrics(num_outputs), prefix=f"{stage}/")
            for stage in ("train", "val", "test")
        )
        self.train_loss, self.val_loss, self.test_loss = (WeightedMean() for _ in range(3))
        self.val_best = MaxMetric()
        # Kept in checkpoints so that a resumed run remembers its best epoch.
        self.val_best.persistent(True)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.criterion(outputs, targets)

    def make_metrics(self, num_outputs: int) -> dict:
        """Fresh metric objects of one stage, by name (logged as `<stage>/<name>`)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.hparams.get("channels_last") and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return (self.compiled_forward or self.net)(x)

    def setup(self, stage: str) -> None:
        # The network's forward is compiled, not the module: checkpoints keep the plain network's
        # parameter names and load into an uncompiled model (eval.py) as well.
        if self.hparams.get("compile") and stage == "fit" and self.compiled_forward is None:
            self.compiled_forward = torch.compile(self.net.forward)

    def on_train_start(self) -> None:
        # The sanity check ran validation on untrained weights. `val_best` is not reset: the sanity
        # check never updates it, and a resumed run restores it from the checkpoint.
        self.val_loss.reset()
        self.val_metrics.reset()

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str, batch_idx: int) -> torch.Tensor:
        x, y = batch
        outputs = self(x)
        loss = self.loss(outputs, y)
        mean_loss, metrics = getattr(self, f"{stage}_loss"), getattr(self, f"{stage}_metrics")
        # update(), not a call: a call also computes the batch's own value, which nobody reads.
        mean_loss.update(loss.detach(), weight=len(y))
        metrics.update(outputs.detach(), y)
        if batch_idx == 0:
            # Metric objects, not values: Lightning computes them at the epoch's end from every
            # update of the epoch, and resets them. Logging them once an epoch is enough to hand
            # them over; each `log` of a metric object costs ~0.25 ms of host time.
            self.log(f"{stage}/loss", mean_loss, on_step=False, on_epoch=True, prog_bar=True)
            self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train", batch_idx)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val", batch_idx)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        self.val_best(self.val_metrics[self.monitor].compute())
        self.log(f"val/{self.monitor}_best", self.val_best.compute(), sync_dist=True, prog_bar=True)

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test", batch_idx)

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if not self.scheduler_factory:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": "val/loss", "interval": "epoch"},
        }
