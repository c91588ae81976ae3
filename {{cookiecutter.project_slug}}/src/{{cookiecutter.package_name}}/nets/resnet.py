"""A residual network for small images (He et al., 2016), as it is trained on CIFAR-10.

With the defaults, widths (64, 128, 256, 512) and two blocks per stage, it is ResNet-18 (11.2 M
parameters) with the CIFAR stem: one 3x3 convolution at full resolution and no max pooling,
since 32x32 images have no resolution to spare. A strong baseline for image data sets, and the
network of the GPU benchmark.
"""

from collections.abc import Sequence

from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, added to the input (projected when the shape changes)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    # The input shapes tests/test_nets.py checks it on: images (C, H, W).
    input_shapes = ((1, 28, 28), (3, 32, 32))

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks_per_stage: Sequence[int] = (2, 2, 2, 2),
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(
                f"ResNet needs image-shaped input (C, H, W), got input_shape={tuple(input_shape)}"
            )
        if len(widths) != len(blocks_per_stage):
            raise ValueError(
                f"ResNet: widths {list(widths)} and blocks_per_stage {list(blocks_per_stage)} need one "
                "entry per stage each"
            )
        layers: list[nn.Module] = [
            nn.Conv2d(input_shape[0], widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        in_channels = widths[0]
        for stage, (width, blocks) in enumerate(zip(widths, blocks_per_stage, strict=True)):
            for block in range(blocks):
                # Each stage after the first halves the resolution in its first block.
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(BasicBlock(in_channels, width, stride))
                in_channels = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(in_channels, num_outputs)

    def forward(self, x):
        return self.head(self.features(x))
