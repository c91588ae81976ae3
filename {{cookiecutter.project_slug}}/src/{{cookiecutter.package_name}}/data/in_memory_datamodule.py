"""What every data module with its splits held in memory shares: the loaders of the three splits."""

import lightning as L
from torch.utils.data import DataLoader, Dataset

from .loading import split_loader


class InMemoryDataModule(L.LightningDataModule):
    """Set `train_set`, `val_set` and `test_set` in `setup()` (`InMemoryDataset`s, or any `Dataset`)
    and save `batch_size` (and optionally `num_workers`, `pin_memory`) as hyper-parameters; the
    loaders come from here: training batches shuffled, validation and test in order, each sample
    once, also under DDP (`loaders.split_loader`)."""

    train_set: Dataset | None = None
    val_set: Dataset | None = None
    test_set: Dataset | None = None

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        hp = self.hparams
        return split_loader(
            dataset,
            self.trainer,
            batch_size=hp.batch_size,
            shuffle=shuffle,
            num_workers=hp.get("num_workers", 0),
            pin_memory=hp.get("pin_memory"),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)
