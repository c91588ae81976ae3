"""scikit-learn's bundled 8x8 digits: a real image task that needs no download."""

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, train_test_split

from .contract import DataContract
from .in_memory_datamodule import InMemoryDataModule
from .loading import InMemoryDataset
from .splits import check_fold, check_splits


class DigitsDataModule(InMemoryDataModule):
    """1,797 grey-scale digits as (1, 8, 8) tensors, split train/val/test once and for all.

    The split depends on `split_seed` only, never on the run's seed: seeds vary the training,
    not which samples are tested. Normalisation statistics come from the training split alone.
    With `num_folds=K`, validation is fold `fold` (0..K-1) of a stratified K-fold split of
    everything but the test split, which stays the same for every fold. Set-up fails when two
    splits share an example (`check_leakage`) and logs the class balance of each split.
    """

    contract = DataContract.classification((1, 8, 8), class_names=range(10))

    def __init__(
        self,
        batch_size: int = 64,
        num_workers: int = 0,
        pin_memory: bool | None = None,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        split_seed: int = 0,
        num_folds: int | None = None,
        fold: int = 0,
        check_leakage: bool = True,
    ) -> None:
        super().__init__()
        check_fold(num_folds, fold)
        self.save_hyperparameters(logger=False)
        self.train_set: InMemoryDataset | None = None
        self.val_set: InMemoryDataset | None = None
        self.test_set: InMemoryDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        x, y = load_digits(return_X_y=True)
        splits = self._stratified_split(x, y)
        check_splits(splits, self.contract.num_outputs, self.hparams.check_leakage)
        # Kept to undo the normalisation, e.g. to show images.
        self.mean, self.std = float(splits["train"][0].mean()), float(splits["train"][0].std())
        self.train_set, self.val_set, self.test_set = (
            self._to_dataset(xs, ys, self.mean, self.std) for xs, ys in splits.values()
        )

    def _stratified_split(self, x, y) -> dict:
        hp = self.hparams
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y, test_size=hp.test_fraction, stratify=y, random_state=hp.split_seed
        )
        if hp.num_folds is None:
            # The validation fraction is of the whole data set, not of what the test split left.
            val_size = hp.val_fraction / (1.0 - hp.test_fraction)
            x_train, x_val, y_train, y_val = train_test_split(
                x_rest, y_rest, test_size=val_size, stratify=y_rest, random_state=hp.split_seed
            )
        else:
            folds = StratifiedKFold(n_splits=hp.num_folds, shuffle=True, random_state=hp.split_seed)
            train_idx, val_idx = list(folds.split(x_rest, y_rest))[hp.fold]
            x_train, x_val, y_train, y_val = (
                x_rest[train_idx],
                x_rest[val_idx],
                y_rest[train_idx],
                y_rest[val_idx],
            )
        return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}

    def _to_dataset(self, x, y, mean: float, std: float) -> InMemoryDataset:
        images = torch.as_tensor((x - mean) / std, dtype=torch.float32).view(-1, *self.contract.input_shape)
        return InMemoryDataset(images, torch.as_tensor(y, dtype=torch.long))
