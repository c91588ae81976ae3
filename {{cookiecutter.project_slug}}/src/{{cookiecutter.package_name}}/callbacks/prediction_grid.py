"""What the model predicts on real examples: a grid of test images with prediction and truth."""

import math
from pathlib import Path

import lightning as L
import torch

from ..loggers.figures import publish_figure, pyplot
from .confusion_matrix import predicts_classes


class PredictionGridAtTest(L.Callback):
    """At the end of testing: `predictions.png`, the first `count` test images, each titled
    `prediction / truth` in red when wrong; also sent to the loggers that show images.

    Only for image-shaped inputs (1 or 3 channels); for other data it does nothing. Normalised
    images are shown as they were, when the data module says how (`mean` and `std` attributes).
    """

    def __init__(self, output_dir: str, count: int = 32) -> None:
        self.output_dir = Path(output_dir)
        self.count = count
        self.active = False
        self.images: list[torch.Tensor] = []
        self.predictions: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.images, self.predictions, self.labels = [], [], []
        self.active = predicts_classes(trainer, "prediction grid")

    @torch.no_grad()
    def on_test_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        x, y = batch
        missing = self.count - sum(len(images) for images in self.images)
        if not self.active or missing <= 0 or x.dim() != 4 or x.shape[1] not in (1, 3):
            return
        self.images.append(x[:missing].cpu())
        self.predictions.append(pl_module(x[:missing]).argmax(dim=1).cpu())
        self.labels.append(y[:missing].cpu())

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.images or not trainer.is_global_zero:
            return
        images = torch.cat(self.images)
        datamodule = trainer.datamodule
        if hasattr(datamodule, "mean") and hasattr(datamodule, "std"):
            images = images * datamodule.std + datamodule.mean
        names = list(datamodule.contract.class_names)
        figure = plot(images, torch.cat(self.predictions), torch.cat(self.labels), names)
        publish_figure(figure, self.output_dir / "predictions.png", "test/predictions", trainer.loggers)


def plot(images: torch.Tensor, predictions: torch.Tensor, labels: torch.Tensor, names: list[str]):
    plt = pyplot()

    columns = 8
    rows = math.ceil(len(images) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.4, rows * 1.6), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, image, predicted, true in zip(axes.flat, images, predictions, labels, strict=False):
        picture = image.permute(1, 2, 0).squeeze(-1).clamp(image.min(), image.max())
        axis.imshow(picture, cmap="gray" if image.shape[0] == 1 else None)
        axis.set_title(
            f"{names[predicted]} / {names[true]}", fontsize=8, color="black" if predicted == true else "red"
        )
    figure.suptitle("prediction / truth (red: wrong)")
    return figure
