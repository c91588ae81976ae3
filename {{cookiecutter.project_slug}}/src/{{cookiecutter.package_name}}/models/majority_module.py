"""The majority-class baseline: the accuracy that says nothing about the inputs."""

from collections.abc import Callable, Sequence

import torch

from ..nets.class_prior import ClassPrior
from .classifier_module import ClassifierModule


class MajorityClassModule(ClassifierModule):
    """Predicts the most frequent class of the training split, whatever the input.

    Train it first: its accuracy is what a model gets without looking at the data (0.10 on the
    balanced digits; 0.58 on a data set where one class is 58 % of the samples). Its only
    parameters, one logit per class, are set to the training split's log class frequencies when
    fitting starts and never optimised, so it goes through the same training, evaluation and
    report as every other model and can be named as the baseline there.
    """

    def __init__(
        self,
        optimizer: Callable[..., torch.optim.Optimizer],
        input_shape: Sequence[int],
        num_outputs: int,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        compile: bool = False,
    ) -> None:
        # Lightning records this frame's arguments too: a plain tuple, so checkpoints load with
        # torch's weights_only (the config hands over a ListConfig).
        input_shape = tuple(input_shape)
        super().__init__(ClassPrior, optimizer, input_shape, num_outputs, scheduler=scheduler, compile=False)
        # Lightning then leaves the optimizer to training_step; it exists for the callbacks that
        # expect one, and its steps (on no gradient) count the steps that checkpoints follow.
        self.automatic_optimization = False

    def on_fit_start(self) -> None:
        counts = torch.zeros(self.hparams.num_outputs, device=self.device)
        for _, labels in self.trainer.datamodule.train_dataloader():
            counts += torch.bincount(labels.to(self.device), minlength=self.hparams.num_outputs)
        # Under DDP each rank saw its share of the split.
        self.net.set_from_counts(self.trainer.strategy.reduce(counts, reduce_op="sum"))

    def training_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "train", batch_idx)
        # A step with no gradients changes nothing, but counts: checkpoints are written per step.
        self.optimizers().step()
