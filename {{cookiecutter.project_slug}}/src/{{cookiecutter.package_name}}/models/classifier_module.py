"""Classification: cross-entropy loss and accuracy, for any network that maps inputs to logits."""

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from .supervised_module import SupervisedModule


class ClassifierModule(SupervisedModule):
    """Logs `train/loss`, `train/acc`, `val/loss`, `val/acc`, `val/acc_best`, `test/loss`, `test/acc`."""

    task = "classification"
    monitor = "acc"

    def __init__(
        self,
        net: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        input_shape: Sequence[int],
        num_outputs: int,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        compile: bool = False,
        channels_last: bool = False,
    ) -> None:
        # A plain tuple, not the config's ListConfig: checkpoints must load with torch's weights_only.
        input_shape = tuple(input_shape)
        super().__init__(
            net, optimizer, input_shape, num_outputs, nn.CrossEntropyLoss(), scheduler, compile, channels_last
        )

    def make_metrics(self, num_outputs: int) -> dict:
        # validate_args=False: its check of the targets' values (torch.unique) makes the host wait
        # for the device at every update; the data module checked the labels once, and the
        # predictions are logits of the right width by construction.
        return {"acc": MulticlassAccuracy(num_outputs, average="micro", validate_args=False)}
