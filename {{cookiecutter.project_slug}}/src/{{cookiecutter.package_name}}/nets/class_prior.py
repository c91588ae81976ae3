"""Logits that ignore the input: one value per class, the log class frequencies."""

from collections.abc import Sequence

import torch
from torch import nn


class ClassPrior(nn.Module):
    # The input shapes tests/test_nets.py checks it on: it ignores the input.
    input_shapes = ((13,), (1, 8, 8))

    def __init__(self, input_shape: Sequence[int], num_outputs: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(num_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(x.shape[0], -1)

    @torch.no_grad()
    def set_from_counts(self, counts: torch.Tensor) -> None:
        # Add-one smoothing: a class absent from training gets a finite, smallest logit.
        counts = counts.to(self.logits)
        self.logits.copy_(torch.log((counts + 1) / (counts.sum() + len(counts))))
