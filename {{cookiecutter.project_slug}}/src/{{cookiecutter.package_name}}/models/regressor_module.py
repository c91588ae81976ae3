"""Regression: mean squared error loss; MSE, MAE and R² in the targets' own units."""

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError, R2Score

from .supervised_module import SupervisedModule


class RegressorModule(SupervisedModule):
    """Logs `<stage>/loss` (MSE), `<stage>/mse`, `<stage>/mae`, `<stage>/r2` and `val/r2_best`.

    R² is what checkpoints and sweeps follow: 0 is the constant prediction of the mean, 1 a perfect
    fit, so it is the baseline comparison built into the metric. With several targets, MSE and MAE
    are over all values and R² is the mean of the targets' R².
    """

    monitor = "r2"

    def __init__(
        self,
        net: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        input_shape: Sequence[int],
        num_targets: int,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        compile: bool = False,
        channels_last: bool = False,
    ) -> None:
        # A plain tuple, not the config's ListConfig: checkpoints must load with torch's weights_only.
        input_shape = tuple(input_shape)
        super().__init__(
            net, optimizer, input_shape, num_targets, nn.MSELoss(), scheduler, compile, channels_last
        )

    def make_metrics(self, num_outputs: int) -> dict:
        return {
            "mse": MeanSquaredError(),
            "mae": MeanAbsoluteError(),
            "r2": R2Score(multioutput="uniform_average"),
        }
