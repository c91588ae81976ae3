"""CIFAR-10: 60,000 colour 32x32 images of 10 classes, with the official 50,000/10,000 split."""

from .contract import DataContract
from .fetch.unpack import unpack_once, unpacked_folder, verified_member
from .formats.cifar import read_batches, read_label_names
from .official_split_datamodule import OfficialSplitDataModule, Split

BATCHES = "cifar-10-batches-py"


class CIFAR10DataModule(OfficialSplitDataModule):
    """The "python version" archive (https://www.cs.toronto.edu/~kriz/cifar.html), unpacked once
    beside itself; its batches are checked against the checksums recorded at unpacking before
    they are unpickled. Files and mirrors in configs/data/cifar10.yaml."""

    contract = DataContract.classification(
        (3, 32, 32),
        class_names=(
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),
    )
    folder_name = "cifar10"
    file_roles = ("archive",)

    def after_download(self) -> None:
        unpack_once(self.folder / self.hparams.files["archive"]["name"])  # verified by prepare_data

    def read_official_splits(self) -> tuple[Split, Split]:
        folder = unpacked_folder(self.folder / self.hparams.files["archive"]["name"])
        names = read_label_names(verified_member(folder, f"{BATCHES}/batches.meta"))
        if tuple(names) != self.contract.class_names:
            expected = list(self.contract.class_names)
            raise ValueError(f"{folder}: class names {names}, expected CIFAR-10's {expected}")
        train = [verified_member(folder, f"{BATCHES}/data_batch_{i}") for i in range(1, 6)]
        return read_batches(train), read_batches([verified_member(folder, f"{BATCHES}/test_batch")])
