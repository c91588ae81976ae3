"""A multi-layer perceptron on the flattened input."""

import math
from collections.abc import Sequence

from torch import nn


class MLP(nn.Module):
    # The input shapes tests/test_nets.py checks it on: any shape works, flattened.
    input_shapes = ((13,), (1, 8, 8), (1, 28, 28), (3, 32, 32))

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        hidden_sizes: Sequence[int] = (128, 64),
        dropout: float = 0.1,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(input_shape)
        for hidden in hidden_sizes:
            layers.append(nn.Linear(width, hidden))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden))
            layers += [nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, num_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
