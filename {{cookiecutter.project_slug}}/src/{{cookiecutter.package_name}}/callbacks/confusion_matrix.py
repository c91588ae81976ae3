"""Which classes the model confuses: a confusion matrix and per-class precision and recall."""

import csv
import logging
from pathlib import Path

import lightning as L
import torch
from torchmetrics.classification import MulticlassConfusionMatrix

from ..loggers.figures import publish_figure, pyplot

log = logging.getLogger(__name__)


class ConfusionMatrixAtTest(L.Callback):
    """At the end of testing: `confusion_matrix.png` (counts, and precision/recall per class) and
    `per_class.csv` in the run directory, the figure also sent to the loggers that show images.

    An accuracy of 0.95 can hide a class the model never gets right; this shows it. Costs one more
    forward pass per test batch, and nothing during training.
    """

    def __init__(self, output_dir: str) -> None:
        self.output_dir = Path(output_dir)
        self.matrix: MulticlassConfusionMatrix | None = None

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.matrix = None
        if not predicts_classes(trainer, "confusion matrix"):
            return
        num_classes = trainer.datamodule.contract.num_outputs
        self.matrix = MulticlassConfusionMatrix(num_classes).to(pl_module.device)

    @torch.no_grad()
    def on_test_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        if self.matrix is None:
            return
        x, y = batch
        self.matrix.update(pl_module(x).argmax(dim=1), y)

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.matrix is None:
            return
        counts = self.matrix.compute().cpu()  # summed over all ranks
        if not trainer.is_global_zero:
            return
        names = list(trainer.datamodule.contract.class_names)
        precision, recall = per_class_scores(counts)
        self._write_csv(names, counts, precision, recall)
        figure = plot(counts, names, precision, recall)
        publish_figure(
            figure, self.output_dir / "confusion_matrix.png", "test/confusion_matrix", trainer.loggers
        )

    def _write_csv(self, names, counts, precision, recall) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        with (self.output_dir / "per_class.csv").open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["class", "support", "precision", "recall"])
            for i, name in enumerate(names):
                writer.writerow([name, int(counts[i].sum()), f"{precision[i]:.4f}", f"{recall[i]:.4f}"])


def predicts_classes(trainer: L.Trainer, figure: str) -> bool:
    """False, with a warning, for regression: there are no classes to show."""
    task = trainer.datamodule.contract.task
    if task == "classification":
        return True
    log.warning(f"no {figure} for {task}: it has no classes")
    return False


def per_class_scores(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows are true classes, columns predictions; a class never predicted has precision 0."""
    correct = counts.diag().float()
    precision = correct / counts.sum(dim=0).clamp(min=1)
    recall = correct / counts.sum(dim=1).clamp(min=1)
    return precision, recall


def plot(counts: torch.Tensor, names: list[str], precision: torch.Tensor, recall: torch.Tensor):
    plt = pyplot()

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [1.1, 1]})
    image = left.imshow(counts, cmap="Blues")
    for row, column in counts.nonzero().tolist():
        left.text(column, row, int(counts[row, column]), ha="center", va="center", fontsize=7)
    left.set(
        xticks=range(len(names)), yticks=range(len(names)), xlabel="predicted", ylabel="true", title="test"
    )
    left.set_xticklabels(names, rotation=90)
    left.set_yticklabels(names)
    figure.colorbar(image, ax=left, fraction=0.046)
    positions = torch.arange(len(names))
    right.bar(positions - 0.2, precision, width=0.4, label="precision")
    right.bar(positions + 0.2, recall, width=0.4, label="recall")
    right.set(xticks=range(len(names)), ylim=(0, 1.05), title="per class")
    right.set_xticklabels(names, rotation=90)
    right.legend(loc="lower right")
    return figure
