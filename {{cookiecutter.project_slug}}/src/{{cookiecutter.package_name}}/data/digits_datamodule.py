"""scikit-learn's bundled 8x8 digits: a real image task that needs no download."""

import torch
from sklearn.datasets import load_digits

from .contract import DataContract
from .in_memory_datamodule import InMemoryDataModule
from .loading import InMemoryDataset


class DigitsDataModule(InMemoryDataModule):
    """1,797 grey-scale digits as (1, 8, 8) tensors, split train/val/test once and for all.

    The split (`InMemoryDataModule.split`, with its hyper-parameters) depends on `split_seed`
    only, never on the run's seed: seeds vary the training, not which samples are tested. It is
    stratified by class; with `num_folds=K`, validation is fold `fold` (0..K-1) of a stratified
    K-fold split of everything but the test split, which stays the same for every fold. Set-up
    fails when two splits share an example (`check_leakage`) and logs the class balance of each
    split. Normalisation statistics come from the training split alone.
    """

    contract = DataContract.classification((1, 8, 8), class_names=range(10))

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        x, y = load_digits(return_X_y=True)
        splits = self.split(x, y)  # in the order drawn, as every digits result so far was measured
        # Kept to undo the normalisation, e.g. to show images.
        self.mean, self.std = float(splits["train"][0].mean()), float(splits["train"][0].std())
        self.train_set, self.val_set, self.test_set = (
            self._to_dataset(xs, ys, self.mean, self.std) for xs, ys in splits.values()
        )

    def _to_dataset(self, x, y, mean: float, std: float) -> InMemoryDataset:
        images = torch.as_tensor((x - mean) / std, dtype=torch.float32).view(-1, *self.contract.input_shape)
        return InMemoryDataset(images, torch.as_tensor(y, dtype=torch.long))
