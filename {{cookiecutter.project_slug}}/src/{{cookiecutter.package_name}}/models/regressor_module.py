"""Regression: mean squared error loss; MSE, MAE and R² in the targets' own units."""

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError, R2Score

from .supervised_module import SupervisedModule


class RegressorModule(SupervisedModule):
    """Logs `<stage>/loss`, `<stage>/mse`, `<stage>/mae`, `<stage>/r2` and `val/r2_best`.

    The network predicts standardised targets: `forward` maps them back with the training split's
    `target_mean` and `target_std`, so predictions, MSE and MAE are in the targets' own units. The
    loss is the MSE of the standardised targets: each target weighs the same whatever its units,
    and a freshly initialised network starts near the mean instead of thousands of steps away.

    R² is what checkpoints and sweeps follow: 0 is the constant prediction of the mean, 1 a perfect
    fit, so it is the baseline comparison built into the metric. With several targets, MSE and MAE
    are over all values and R² is the mean of the targets' R².
    """

    task = "regression"
    monitor = "r2"

    def __init__(
        self,
        net: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        input_shape: Sequence[int],
        num_outputs: int,
        target_mean: Sequence[float] | None = None,
        target_std: Sequence[float] | None = None,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        compile: bool = False,
        channels_last: bool = False,
    ) -> None:
        # A plain tuple, not the config's ListConfig: checkpoints must load with torch's weights_only.
        input_shape = tuple(input_shape)
        target_mean = (0.0,) * num_outputs if target_mean is None else tuple(map(float, target_mean))
        target_std = (1.0,) * num_outputs if target_std is None else tuple(map(float, target_std))
        super().__init__(
            net, optimizer, input_shape, num_outputs, nn.MSELoss(), scheduler, compile, channels_last
        )
        self.register_buffer("target_mean", torch.tensor(target_mean))
        self.register_buffer("target_std", torch.tensor(target_std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * self.target_std + self.target_mean

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.criterion(outputs / self.target_std, targets / self.target_std)

    def make_metrics(self, num_outputs: int) -> dict:
        return {
            "mse": MeanSquaredError(),
            "mae": MeanAbsoluteError(),
            "r2": R2Score(multioutput="uniform_average"),
        }
