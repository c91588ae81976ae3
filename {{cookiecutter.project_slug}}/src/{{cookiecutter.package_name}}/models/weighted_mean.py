"""The mean loss of an epoch, weighted by batch size, kept on the device between its reads."""

import torch
from torchmetrics import Metric


class WeightedMean(Metric):
    """Σ value·weight / Σ weight over an epoch's updates, summed over ranks.

    torchmetrics' MeanMetric checks every update for NaN with `if nans.any()`, which on a GPU
    makes the host wait for the device at every step; its `nan_strategy="disable"` skips the
    check but (torchmetrics 1.9) also replaces the weights with ones. A NaN loss stops the run
    anyway (callbacks/non_finite_loss.py), so here it just makes the mean NaN.
    """

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("weight", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, value: torch.Tensor, weight: float) -> None:
        self.total += value.detach().to(torch.float64) * weight
        self.weight += weight

    def compute(self) -> torch.Tensor:
        return (self.total / self.weight).to(torch.float32)
