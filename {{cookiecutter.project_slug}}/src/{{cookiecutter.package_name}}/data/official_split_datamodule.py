"""What the downloaded benchmark image sets share: official files, official test split, in memory.

A subclass names its files (`file_roles`), says where they go (`folder_name`), reads them
(`read_official_splits`) and declares its `contract` (input shape, class names); the rest is here.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .contract import DataContract
from .fetch.download import fetch, verified_file
from .in_memory_datamodule import InMemoryDataModule
from .loading import InMemoryDataset
from .transforms.batch_augmentation import BatchAugmentation

Split = tuple[np.ndarray, np.ndarray]  # images (N, C, H, W) uint8, labels (N,) int64


class OfficialSplitDataModule(InMemoryDataModule):
    """The official test split is the test split, untouched. Validation is a stratified share
    (`val_fraction`) of the official training set, drawn with `split_seed` alone, never with the
    run's seed; or, with `num_folds=K`, fold `fold` of a stratified K-fold split of it.

    `prepare_data()` (one process per node) fetches every file from `mirrors` in order, keeping
    it only when its MD5 in `files` matches. `setup()` checks the checksums again, parses, and
    holds the splits in memory as float tensors scaled to [0, 1] and normalised per channel with
    the training split's `mean` and `std` (shape (C, 1, 1), kept to undo it for display).
    `augment` (flip, crop_padding, padding_mode) changes training batches only, on the device.
    """

    contract: DataContract  # classification, images (C, H, W)
    folder_name: str  # under data_dir
    file_roles: tuple[str, ...]  # keys of `files`, each {name, md5}

    def __init__(
        self,
        data_dir: str,
        mirrors: Sequence[str],
        files: Mapping[str, Mapping[str, str]],
        augment: Mapping | None = None,
        batch_size: int = 128,
        val_fraction: float = 0.1,
        check_leakage: bool | str = "warn",
        **kwargs,  # num_workers, pin_memory, split_seed, num_folds, fold: see InMemoryDataModule
    ) -> None:
        # Plain Python values: checkpoints keep these and must load with torch.load(weights_only=True).
        data_dir, mirrors = str(data_dir), [str(mirror) for mirror in mirrors]
        files = {role: dict(entry) for role, entry in files.items()}
        augment = dict(augment) if augment else None
        missing = [role for role in self.file_roles if not {"name", "md5"} <= set(files.get(role) or {})]
        if missing:
            raise ValueError(
                f"data.files lacks {', '.join(missing)}: each of {', '.join(self.file_roles)} needs a "
                "name (the file's) and an md5 (its checksum)"
            )
        # The official test set is the test split: no test_fraction.
        super().__init__(
            batch_size=batch_size,
            val_fraction=val_fraction,
            test_fraction=None,
            check_leakage=check_leakage,
            **kwargs,
        )
        self.augmentation = BatchAugmentation(**(augment or {}))
        self.augmentation.check_fits(self.contract.input_shape)
        self.folder = Path(data_dir) / self.folder_name

    # --- what a data set defines -------------------------------------------------------------

    def read_official_splits(self) -> tuple[Split, Split]:
        """The official (training, test) sets, read from checksum-verified files only."""
        raise NotImplementedError

    def after_download(self) -> None:
        """Called by prepare_data once every file is there and verified (e.g. to unpack one)."""

    # --- shared --------------------------------------------------------------------------------

    def verified(self, role: str) -> Path:
        """The path of the file for `role`, after checking its checksum again."""
        entry = self.hparams.files[role]
        return verified_file(entry["name"], entry["md5"], self.folder)

    def prepare_data(self) -> None:
        for role in self.file_roles:
            entry = self.hparams.files[role]
            fetch(entry["name"], entry["md5"], self.hparams.mirrors, self.folder)
        self.after_download()

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        (x_train, y_train), test = self.read_official_splits()
        self._check_split("official training", x_train, y_train)
        self._check_split("official test", *test)
        # Validation from the official training set; each split keeps the official order.
        splits = self.split(x_train, y_train, test=test, sort=True)
        train_images = _scaled(splits["train"][0])
        std, mean = torch.std_mean(train_images, dim=(0, 2, 3))
        self.mean, self.std = mean.view(-1, 1, 1), std.clamp_min(1e-8).view(-1, 1, 1)
        self.train_set = self._normalised(train_images, splits["train"][1])
        self.val_set = self._normalised(_scaled(splits["val"][0]), splits["val"][1])
        self.test_set = self._normalised(_scaled(test[0]), test[1])

    def _check_split(self, name: str, images: np.ndarray, labels: np.ndarray) -> None:
        shape, num_classes = self.contract.input_shape, self.contract.num_outputs
        if images.shape[1:] != shape or len(labels) != len(images):
            raise ValueError(
                f"{self.folder}: the {name} set has images {images.shape[1:]} and {len(labels)} labels for "
                f"{len(images)} images; expected images {shape}, one label each"
            )
        if len(labels) and not 0 <= labels.min() <= labels.max() < num_classes:
            raise ValueError(
                f"{self.folder}: the {name} set has labels {labels.min()}..{labels.max()}, expected "
                f"0..{num_classes - 1}"
            )

    def _normalised(self, images: torch.Tensor, labels: np.ndarray) -> InMemoryDataset:
        images.sub_(self.mean).div_(self.std)  # in place: CIFAR's training set is 0.5 GB as floats
        return InMemoryDataset(images, torch.as_tensor(labels, dtype=torch.long))

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        # Training batches only; validation and test always see the images as they are.
        if self.augmentation.active and self.trainer is not None and self.trainer.training:
            images, labels = batch
            return self.augmentation(images), labels
        return batch


def _scaled(images: np.ndarray) -> torch.Tensor:
    """uint8 pixels as float32 in [0, 1]."""
    return torch.tensor(images, dtype=torch.uint8).float().div_(255)
