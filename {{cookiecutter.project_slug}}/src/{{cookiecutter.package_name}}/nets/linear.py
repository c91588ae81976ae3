"""The linear baseline: multinomial logistic regression on the flattened input."""

import math
from collections.abc import Sequence

from torch import nn


class LinearNet(nn.Module):
    # The input shapes tests/test_nets.py checks it on: any shape works, flattened.
    input_shapes = ((13,), (1, 8, 8), (1, 28, 28), (3, 32, 32))

    def __init__(self, input_shape: Sequence[int], num_outputs: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_outputs))

    def forward(self, x):
        return self.layers(x)
