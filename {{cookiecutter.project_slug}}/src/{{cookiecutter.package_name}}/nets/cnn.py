"""A small convolutional network for image-shaped input (C, H, W) of any size."""

from collections.abc import Sequence

from torch import nn


class CNN(nn.Module):
    # The input shapes tests/test_nets.py checks it on: images (C, H, W), small and large.
    input_shapes = ((1, 8, 8), (1, 28, 28), (3, 32, 32))

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        channels: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"CNN needs image-shaped input (C, H, W), got input_shape={tuple(input_shape)}")
        blocks: list[nn.Module] = []
        in_channels = input_shape[0]
        for out_channels in channels:
            blocks += [
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            in_channels = out_channels
        # Global pooling makes the head independent of the input's height and width.
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_channels, num_outputs))

    def forward(self, x):
        return self.head(self.features(x))
