"""What every data module with its splits held in memory shares: the split hyper-parameters, the
split itself with its checks, and the loaders of the three splits."""

import lightning as L
import numpy as np
from torch.utils.data import DataLoader, Dataset

from . import splits
from .contract import DataContract
from .loading import split_loader

Arrays = tuple[np.ndarray, np.ndarray]  # examples, labels (or targets)


class InMemoryDataModule(L.LightningDataModule):
    """Declare `contract` (data/contract.py: task, input shape, class or target names) and set
    `train_set`, `val_set` and `test_set` in `setup()` (`InMemoryDataset`s, or any `Dataset`),
    from `self.split(x, y)`; the loaders come from here: training batches shuffled, validation and
    test in order, each sample once, also under DDP (`loaders.split_loader`).

    The keyword arguments are every such module's hyper-parameters (`configs/data/base/in_memory.yaml`):
    a subclass without an `__init__` takes them as they are; one with its own arguments passes these
    on (`**kwargs`) to `super().__init__()`, which saves them together with its own as
    hyper-parameters (Lightning collects the arguments of each `__init__` on the way, as they are
    then: make them plain Python values before, since checkpoints keep them).
    """

    contract: DataContract
    train_set: Dataset | None = None
    val_set: Dataset | None = None
    test_set: Dataset | None = None

    def __init__(
        self,
        batch_size: int = 64,
        num_workers: int = 0,
        pin_memory: bool | None = None,
        val_fraction: float = 0.15,
        test_fraction: float | None = 0.15,
        split_seed: int = 0,
        num_folds: int | None = None,
        fold: int = 0,
        check_leakage: bool | str = True,
        device: str = "auto",
    ) -> None:
        super().__init__()
        splits.check_fold(num_folds, fold)
        self.save_hyperparameters(logger=False)

    # --- the splits ----------------------------------------------------------------------------

    def split(
        self,
        x: np.ndarray,
        y: np.ndarray,
        test: Arrays | None = None,
        sort: bool = False,
        by_class: bool = True,
    ) -> dict:
        """{"train": (x, y), "val": ..., "test": ...}, drawn by `split_indices`: stratified by `y`
        when it holds classes (`by_class=False` for regression targets), the test split `test` when
        given (an official test set) and otherwise `test_fraction` of `x`. Checked by
        `check_splits`. `sort` keeps each split in the order of `x`; otherwise in the order drawn."""
        indices = self.split_indices(len(y), y if by_class else None, fixed_test=test is not None)
        if sort:
            indices = {name: np.sort(index) for name, index in indices.items()}
        drawn = {name: (x[index], y[index]) for name, index in indices.items()}
        if test is not None:
            drawn["test"] = test
        self.check_splits(drawn, by_class)
        return drawn

    def split_indices(
        self,
        num_examples: int,
        labels: np.ndarray | None = None,
        fixed_test: bool = False,
        examples: str = "examples",
    ) -> dict[str, np.ndarray]:
        """`splits.split_indices` with this module's hyper-parameters; with `fixed_test`, only
        "train" and "val" (the test split is given, and `test_fraction` unused)."""
        hp = self.hparams
        return splits.split_indices(
            num_examples,
            labels,
            val_fraction=hp.val_fraction,
            test_fraction=None if fixed_test else hp.test_fraction,
            split_seed=hp.split_seed,
            num_folds=hp.num_folds,
            fold=hp.fold,
            examples=examples,
        )

    def check_splits(self, drawn: dict[str, Arrays], by_class: bool) -> None:
        """Logs each split's size (and class balance, `by_class`) and stops on examples two splits
        share (`check_leakage`)."""
        num_classes = self.contract.num_outputs if by_class else None
        splits.check_splits(drawn, num_classes, self.hparams.check_leakage)

    # --- the loaders ---------------------------------------------------------------------------

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        hp = self.hparams
        return split_loader(
            dataset,
            self.trainer,
            batch_size=hp.batch_size,
            shuffle=shuffle,
            num_workers=hp.num_workers,
            pin_memory=hp.pin_memory,
            device=hp.get("device", "auto"),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)
