"""MNIST: 70,000 grey-scale handwritten digits, 28x28, with the official 60,000/10,000 split."""

from .contract import DataContract
from .formats.idx import read_idx
from .official_split_datamodule import OfficialSplitDataModule, Split


class MNISTDataModule(OfficialSplitDataModule):
    """Files and mirrors in configs/data/mnist.yaml; everything else in OfficialSplitDataModule."""

    contract = DataContract.classification((1, 28, 28), class_names=range(10))
    folder_name = "mnist"
    file_roles = ("train_images", "train_labels", "test_images", "test_labels")

    def read_official_splits(self) -> tuple[Split, Split]:
        return self._read("train"), self._read("test")

    def _read(self, split: str) -> Split:
        images = read_idx(self.verified(f"{split}_images"), ndim=3)
        labels = read_idx(self.verified(f"{split}_labels"), ndim=1)
        return images[:, None, :, :].astype("uint8"), labels.astype("int64")
