"""Random flips and crops of a whole batch of images at once, with torch operations only.

Applied by the data module to training batches after they reach the device (GPU included), so
it costs a few tensor operations per batch instead of Python code per image in the loader
workers. The random numbers come from torch's global generator on the CPU, which the run seeds:
the same seed gives the same augmentation on any device and any number of loader workers.
"""

import torch
import torch.nn.functional as F

PADDING_MODES = ("reflect", "zeros")


class BatchAugmentation:
    """`flip`: each image mirrored left-right with probability 1/2. `crop_padding=p`: each image
    padded by p pixels on every side (`padding_mode` "reflect", or "zeros": the training mean,
    since the images are normalised) and cut back to its size at a random offset."""

    def __init__(self, flip: bool = False, crop_padding: int = 0, padding_mode: str = "reflect") -> None:
        if not isinstance(crop_padding, int) or isinstance(crop_padding, bool) or crop_padding < 0:
            raise ValueError(f"data.augment.crop_padding={crop_padding!r}: expected a whole number >= 0")
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"data.augment.padding_mode={padding_mode!r}: use one of {', '.join(PADDING_MODES)}"
            )
        self.flip, self.crop_padding, self.padding_mode = bool(flip), crop_padding, padding_mode

    @property
    def active(self) -> bool:
        return self.flip or self.crop_padding > 0

    def check_fits(self, input_shape: tuple[int, ...]) -> None:
        height, width = input_shape[-2:]
        if self.padding_mode == "reflect" and self.crop_padding >= min(height, width):
            raise ValueError(
                f"data.augment.crop_padding={self.crop_padding}: reflect padding needs less than the "
                f"image size {height}x{width}; use a smaller padding or padding_mode=zeros"
            )

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.crop_padding > 0:
            images = self._random_crop(images)
        if self.flip:
            mirrored = torch.rand(len(images)) < 0.5
            images = torch.where(mirrored.to(images.device)[:, None, None, None], images.flip(-1), images)
        return images

    def _random_crop(self, images: torch.Tensor) -> torch.Tensor:
        n, _, height, width = images.shape
        p = self.crop_padding
        mode = "constant" if self.padding_mode == "zeros" else "reflect"
        padded = F.pad(images, (p, p, p, p), mode=mode)
        # Offsets in 0..2p per image; each image's rows and columns picked by index, all at once.
        top, left = (torch.randint(0, 2 * p + 1, (n,)).to(images.device) for _ in range(2))
        rows = (top[:, None] + torch.arange(height, device=images.device))[:, None, :, None]
        columns = (left[:, None] + torch.arange(width, device=images.device))[:, None, None, :]
        samples = torch.arange(n, device=images.device)[:, None, None, None]
        channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
        return padded[samples, channels, rows, columns]
