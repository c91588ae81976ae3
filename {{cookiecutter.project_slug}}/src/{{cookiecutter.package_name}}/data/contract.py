"""What a data module promises the model, in one place: model building, callbacks and tests read it."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class DataContract:
    """The task, the shape of one input, and the names of the outputs.

    Classification: `class_names` are the names of classes 0..K-1, one output (logit) each.
    Regression: `target_names` are the predicted columns, one output each; `target_mean` and
    `target_std`, the training split's, let the model learn standardised targets while it still
    predicts, and is scored, in the targets' own units.
    """

    task: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...] = ()
    target_names: tuple[str, ...] = ()
    target_mean: tuple[float, ...] = ()
    target_std: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task={self.task!r}: use {' or '.join(TASKS)}")
        if not self.input_shape or not all(isinstance(size, int) and size > 0 for size in self.input_shape):
            raise ValueError(f"input_shape={self.input_shape!r}: give the positive sizes of one input")
        if self.task == "classification" and len(self.class_names) < 2:
            raise ValueError(f"classification needs 2 or more class_names, got {list(self.class_names)}")
        if self.task == "regression":
            if not self.target_names:
                raise ValueError("regression needs the target_names of the predicted columns")
            for name in ("target_mean", "target_std"):
                if len(getattr(self, name)) not in (0, len(self.target_names)):
                    raise ValueError(f"{name} needs one value per target ({len(self.target_names)})")

    @classmethod
    def classification(cls, input_shape: Sequence[int], class_names: Sequence) -> "DataContract":
        """Classes 0..K-1 named by `class_names` (as text)."""
        return cls("classification", tuple(input_shape), class_names=tuple(map(str, class_names)))

    @classmethod
    def regression(
        cls, input_shape: Sequence[int], target_names: Sequence[str], train_targets
    ) -> "DataContract":
        """Numeric targets, scaled by the training split's `train_targets` (N, one column per target)."""
        targets = np.asarray(train_targets, dtype=np.float64).reshape(len(train_targets), -1)
        std = targets.std(axis=0)
        return cls(
            "regression",
            tuple(input_shape),
            target_names=tuple(target_names),
            target_mean=tuple(targets.mean(axis=0).tolist()),
            # A constant target is not divided by zero.
            target_std=tuple(np.where(std > 0, std, 1.0).tolist()),
        )

    @property
    def num_outputs(self) -> int:
        """What the network's last layer has: one logit per class, or one value per target."""
        return len(self.class_names) if self.task == "classification" else len(self.target_names)

    def model_arguments(self) -> dict:
        """What the task's LightningModule is built with, besides its config."""
        arguments = {"input_shape": self.input_shape, "num_outputs": self.num_outputs}
        if self.task == "regression" and self.target_mean:
            arguments.update(target_mean=self.target_mean, target_std=self.target_std)
        return arguments
