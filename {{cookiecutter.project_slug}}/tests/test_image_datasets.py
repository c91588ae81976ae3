"""MNIST, Fashion-MNIST and CIFAR-10, offline: small files in the official formats, served by a
real HTTP server, downloaded with checksums, parsed, split and trained on through train.py."""

import csv
import gzip
import logging
import os
import pickle
import shutil
import subprocess
import sys

import lightning as L
import numpy as np
import pytest
import torch
from conftest import ROOT, python_path, read_run, run_script
from official_format_files import (
    CIFAR10_NAMES,
    FileServer,
    cifar10_files,
    corrupt_copies,
    md5_of,
    mnist_like_files,
    write_idx,
)
from torch import nn

from {{ cookiecutter.package_name }}.data.cifar10_datamodule import CIFAR10DataModule
from {{ cookiecutter.package_name }}.data.fashion_mnist_datamodule import FashionMNISTDataModule
from {{ cookiecutter.package_name }}.data.fetch.download import DownloadError, fetch
from {{ cookiecutter.package_name }}.data.formats.idx import IDXFormatError, read_idx
from {{ cookiecutter.package_name }}.data.mnist_datamodule import MNISTDataModule
from {{ cookiecutter.package_name }}.data.splits import DataLeakageError
from {{ cookiecutter.package_name }}.data.transforms.batch_augmentation import BatchAugmentation

MNIST_LIKE = {"mnist": MNISTDataModule, "fashion_mnist": FashionMNISTDataModule}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Official-format files under `good/` (MNIST-like and CIFAR-10), corrupt copies under
    `truncated/` and `altered/`, an `empty/` folder, all served over HTTP."""
    root = tmp_path_factory.mktemp("mirror")
    mnist = mnist_like_files(root / "good")
    cifar = cifar10_files(root / "good")
    for official in (mnist, cifar):
        corrupt_copies(official, root)
    (root / "empty").mkdir()
    with FileServer(root) as server:
        yield server, mnist, cifar


@pytest.fixture
def server(served):
    server, _, _ = served
    server.requests.clear()
    return server


@pytest.fixture
def mnist(served):
    return served[1]


@pytest.fixture
def cifar(served):
    return served[2]


def datamodule(cls, data_dir, mirrors, files, **kwargs):
    return cls(data_dir=str(data_dir), mirrors=mirrors, files=files, batch_size=16, **kwargs)


def raw(dataset, dm) -> np.ndarray:
    """A split's images back as the uint8 pixels they were read from."""
    return (dataset.tensors[0] * dm.std + dm.mean).mul(255).round().to(torch.uint8).numpy()


def rows(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith((".part", ".tmp", ".stale")))


# --- download, verify, parse, split ----------------------------------------------------------


@pytest.mark.parametrize("name", MNIST_LIKE)
def test_mnist_like_files_are_downloaded_verified_and_split(tmp_path, server, mnist, name):
    dm = datamodule(MNIST_LIKE[name], tmp_path, [server.url("good/")], mnist.files)
    dm.prepare_data()
    dm.setup()
    for entry in mnist.files.values():
        assert md5_of(tmp_path / name / entry["name"]) == entry["md5"]
    assert leftovers(tmp_path) == []
    assert dm.contract.task == "classification" and dm.contract.input_shape == (1, 28, 28)
    assert dm.contract.num_outputs == 10
    assert name != "fashion_mnist" or dm.contract.class_names[-1] == "Ankle boot"
    # 100 official training images: 10 (10 %, one per class) validate, 90 train; the test split is
    # the official test file, image for image and in order.
    assert [len(dm.train_set), len(dm.val_set), len(dm.test_set)] == [90, 10, 40]
    assert dm.train_set.tensors[0].shape == (90, 1, 28, 28) and dm.train_set.tensors[0].dtype == torch.float32
    assert dm.test_set.tensors[1].dtype == torch.long
    np.testing.assert_array_equal(raw(dm.test_set, dm), mnist.test_images)
    np.testing.assert_array_equal(dm.test_set.tensors[1].numpy(), mnist.test_labels)
    assert torch.bincount(dm.val_set.tensors[1]).tolist() == [1] * 10
    assert torch.bincount(dm.train_set.tensors[1]).tolist() == [9] * 10
    train, val, test = (rows(raw(split, dm)) for split in (dm.train_set, dm.val_set, dm.test_set))
    assert not test & (train | val) and not train & val
    assert train | val == rows(mnist.train_images)


def test_normalisation_uses_the_training_split_per_channel(tmp_path, server, cifar):
    dm = datamodule(CIFAR10DataModule, tmp_path, [server.url("good/")], cifar.files)
    dm.prepare_data()
    dm.setup()
    images = dm.train_set.tensors[0]
    assert dm.mean.shape == dm.std.shape == (3, 1, 1)
    torch.testing.assert_close(images.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(images.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3, rtol=0)
    # The statistics of the training split only: the test split is not exactly standardised.
    assert abs(float(dm.test_set.tensors[0].mean())) > 1e-4


def test_validation_depends_on_split_seed_only(tmp_path, server, mnist):
    dm = datamodule(MNISTDataModule, tmp_path, [server.url("good/")], mnist.files)
    dm.prepare_data()
    validations = []
    for seed, split_seed in ((1, 0), (2, 0), (1, 1)):
        L.seed_everything(seed)
        dm = datamodule(MNISTDataModule, tmp_path, [], mnist.files, split_seed=split_seed)
        dm.setup()
        validations.append(dm.val_set.tensors[0])
    assert torch.equal(validations[0], validations[1])
    assert not torch.equal(validations[0], validations[2])


def test_k_folds_partition_the_official_training_set_and_keep_the_test_split(tmp_path, server, mnist):
    datamodule(MNISTDataModule, tmp_path, [server.url("good/")], mnist.files).prepare_data()
    folds = [datamodule(MNISTDataModule, tmp_path, [], mnist.files, num_folds=4, fold=i) for i in range(4)]
    for dm in folds:
        dm.setup()
    validation = [rows(raw(dm.val_set, dm)) for dm in folds]
    assert sum(len(v) for v in validation) == 100 and set().union(*validation) == rows(mnist.train_images)
    for dm in folds:
        np.testing.assert_array_equal(raw(dm.test_set, dm), mnist.test_images)


def test_cifar10_archive_is_downloaded_unpacked_once_and_parsed(tmp_path, server, cifar):
    dm = datamodule(CIFAR10DataModule, tmp_path, [server.url("good/")], cifar.files)
    dm.prepare_data()
    dm.setup()
    folder = tmp_path / "cifar10"
    # The archive is kept beside what it unpacked to, with the checksums of each member.
    assert md5_of(folder / "cifar-10-python.tar.gz") == cifar.files["archive"]["md5"]
    unpacked = sorted(p.name for p in (folder / "cifar-10-python" / "cifar-10-batches-py").iterdir())
    assert unpacked == ["batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4"] + [
        "data_batch_5",
        "test_batch",
    ]
    assert (folder / "cifar-10-python" / "checksums.md5").is_file() and leftovers(tmp_path) == []
    assert dm.contract.input_shape == (3, 32, 32) and list(dm.contract.class_names) == CIFAR10_NAMES
    assert [len(dm.train_set), len(dm.val_set), len(dm.test_set)] == [90, 10, 40]
    assert dm.train_set.tensors[0].shape[1:] == (3, 32, 32)
    np.testing.assert_array_equal(raw(dm.test_set, dm), cifar.test_images)
    np.testing.assert_array_equal(dm.test_set.tensors[1].numpy(), cifar.test_labels)
    train, val, test = (rows(raw(split, dm)) for split in (dm.train_set, dm.val_set, dm.test_set))
    assert not test & (train | val) and train | val == rows(cifar.train_images)
    assert torch.bincount(dm.val_set.tensors[1]).tolist() == [1] * 10


# --- corrupt downloads, corrupt files, no second download ------------------------------------


def test_a_corrupt_mirror_is_passed_over_for_a_good_one(tmp_path, server, mnist):
    name, md5 = mnist.files["train_images"]["name"], mnist.files["train_images"]["md5"]
    mirrors = [server.url("cut/good/"), server.url("truncated/"), server.url("altered/"), server.url("good/")]
    path = fetch(name, md5, mirrors, tmp_path, backoff_s=0)
    assert path == tmp_path / name and md5_of(path) == md5
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no .part, no corrupt file
    # Each bad mirror is tried twice (a dropped connection may not happen again), the good one once.
    assert server.requests_for(name) == [f"/{m}/{name}" for m in ("cut/good",) * 2] + [
        f"/{m}/{name}" for m in ("truncated", "truncated", "altered", "altered", "good")
    ]


def test_every_mirror_failing_is_one_clear_error_that_leaves_nothing(tmp_path, server, mnist):
    name, md5 = mnist.files["train_labels"]["name"], mnist.files["train_labels"]["md5"]
    altered = md5_of(server.root / "altered" / name)
    mirrors = [server.url("altered/"), server.url("empty/"), server.url("cut/good/"), "file:///no/such/dir/"]
    with pytest.raises(DownloadError) as raised:
        fetch(name, md5, mirrors, tmp_path / "mnist", backoff_s=0)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"could not download {name}: ")
    assert f"{server.url('altered/')}{name} (checksum mismatch: expected MD5 {md5}, got {altered})" in message
    assert f"{server.url('empty/')}{name} (HTTP 404 File not found)" in message
    assert f"{server.url('cut/good/')}{name} (truncated: got " in message
    assert f"file:///no/such/dir/{name} ([Errno 2] No such file or directory" in message
    assert f"place the file by hand in {tmp_path / 'mnist'} (expected MD5 {md5})" in message
    assert list((tmp_path / "mnist").iterdir()) == []


def test_a_corrupt_file_in_the_data_dir_is_replaced_and_never_parsed(tmp_path, server, mnist):
    target = tmp_path / "mnist" / mnist.files["train_images"]["name"]
    # A valid IDX file of the wrong content: parsed, it would give other images.
    write_idx(target, np.zeros((100, 28, 28), dtype=np.uint8))
    dm = datamodule(MNISTDataModule, tmp_path, [server.url("good/")], mnist.files)
    dm.prepare_data()
    dm.setup()
    assert md5_of(target) == mnist.files["train_images"]["md5"]
    assert server.requests_for(target.name) == [f"/good/{target.name}"]
    assert rows(raw(dm.train_set, dm)) | rows(raw(dm.val_set, dm)) == rows(mnist.train_images)


def test_a_corrupt_file_no_mirror_can_replace_is_removed(tmp_path, server, mnist):
    target = tmp_path / "mnist" / mnist.files["test_labels"]["name"]
    target.parent.mkdir()
    target.write_bytes(b"not the official file")
    with pytest.raises(DownloadError, match="could not download t10k-labels-idx1-ubyte.gz"):
        fetch(target.name, mnist.files["test_labels"]["md5"], [server.url("empty/")], target.parent)
    assert not target.exists()


def test_setup_refuses_a_file_whose_checksum_is_wrong(tmp_path, server, mnist):
    dm = datamodule(MNISTDataModule, tmp_path, [server.url("good/")], mnist.files)
    dm.prepare_data()
    target = tmp_path / "mnist" / mnist.files["test_images"]["name"]
    write_idx(target, np.zeros((40, 28, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match=f"{target}: checksum mismatch, expected MD5"):
        datamodule(MNISTDataModule, tmp_path, [], mnist.files).setup()


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_files_already_verified_are_not_fetched_or_unpacked_again(tmp_path, server, mnist, cifar, name):
    cls, official = {"mnist": (MNISTDataModule, mnist), "cifar10": (CIFAR10DataModule, cifar)}[name]
    datamodule(cls, tmp_path, [server.url("good/")], official.files).prepare_data()
    unpacked = tmp_path / "cifar10" / "cifar-10-python"
    inode = unpacked.stat().st_ino if name == "cifar10" else None
    datamodule(cls, tmp_path, [server.url("good/")], official.files).prepare_data()
    for entry in official.files.values():
        assert server.requests_for(entry["name"]) == [f"/good/{entry['name']}"]
    if name == "cifar10":
        assert unpacked.stat().st_ino == inode


class Tripwire:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_a_changed_cifar_batch_is_never_unpickled_and_is_unpacked_again(tmp_path, server, cifar):
    datamodule(CIFAR10DataModule, tmp_path, [server.url("good/")], cifar.files).prepare_data()
    batch = tmp_path / "cifar10" / "cifar-10-python" / "cifar-10-batches-py" / "data_batch_3"
    tripwire = tmp_path / "unpickled"
    batch.write_bytes(pickle.dumps(Tripwire(tripwire)))
    with pytest.raises(ValueError, match="data_batch_3 changed since it was unpacked"):
        datamodule(CIFAR10DataModule, tmp_path, [], cifar.files).setup()
    assert not tripwire.exists()
    dm = datamodule(CIFAR10DataModule, tmp_path, [], cifar.files)
    dm.prepare_data()  # the archive is still good: unpacked again, nothing downloaded
    dm.setup()
    assert not tripwire.exists() and len(dm.train_set) + len(dm.val_set) == 100
    assert server.requests_for("cifar-10-python.tar.gz") == ["/good/cifar-10-python.tar.gz"]


CONCURRENT_JOB = """
import sys
from pathlib import Path
from {{ cookiecutter.package_name }}.data.fetch.download import fetch
from {{ cookiecutter.package_name }}.data.fetch.unpack import unpack_once
archive = fetch(sys.argv[1], sys.argv[2], [sys.argv[3]], Path(sys.argv[4]))
folder = unpack_once(archive)
print(sorted(p.name for p in (folder / "cifar-10-batches-py").iterdir()))
"""


def test_concurrent_jobs_download_and_unpack_into_one_data_dir(tmp_path, server, cifar):
    entry = cifar.files["archive"]
    arguments = [entry["name"], entry["md5"], server.url("slow/good/"), str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": python_path(ROOT / "src")}
    jobs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_JOB, *arguments], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [job.communicate(timeout=120)[0] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0]
    # Both downloaded at the same time (neither saw the other's half file as done) ...
    assert len(server.requests_for(entry["name"])) == 2
    # ... and both found the whole archive and all its members.
    assert len(set(outputs)) == 1 and "test_batch" in outputs[0]
    assert md5_of(tmp_path / entry["name"]) == entry["md5"] and leftovers(tmp_path) == []


# --- malformed files and configs -------------------------------------------------------------


def test_an_idx_file_with_a_wrong_magic_number_is_a_clear_error(tmp_path):
    labels = write_idx(tmp_path / "labels.gz", np.arange(10, dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"magic number 0x00000801, expected 0x00000803"):
        read_idx(labels, ndim=3)
    odd_type = write_idx(tmp_path / "odd.gz", np.zeros((2, 3, 3), dtype=np.uint8), magic_type=0x07)
    with pytest.raises(
        IDXFormatError, match=r"odd.gz: not an IDX file with 3 dimension\(s\): magic number 0x00000703"
    ):
        read_idx(odd_type, ndim=3)


def test_an_idx_file_cut_short_or_not_gzip_is_a_clear_error(tmp_path):
    images = write_idx(tmp_path / "images.gz", np.zeros((4, 28, 28), dtype=np.uint8))
    content = gzip.decompress(images.read_bytes())
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(content[:-28]))
    with pytest.raises(IDXFormatError, match=r"short.gz: 3124 bytes, but its header \(4, 28, 28\)"):
        read_idx(short, ndim=3)
    plain = tmp_path / "plain.gz"
    plain.write_bytes(content)
    with pytest.raises(IDXFormatError, match="plain.gz: not a gzip-compressed IDX file"):
        read_idx(plain, ndim=3)


def test_a_wrong_magic_number_in_a_verified_file_stops_the_set_up(tmp_path, mnist):
    shutil.copytree(mnist.folder, tmp_path / "mnist")
    # The labels file where the images should be, with its own checksum: verified, but not images.
    swapped = dict(mnist.files, train_images=mnist.files["train_labels"])
    with pytest.raises(IDXFormatError, match="train-labels-idx1-ubyte.gz: not an IDX file with 3 dimension"):
        datamodule(MNISTDataModule, tmp_path, [], swapped).setup()


def test_an_image_in_both_official_splits_is_a_warning_unless_asked_to_stop(tmp_path, caplog):
    official = mnist_like_files(tmp_path / "mnist", shared_with_test=3)
    with caplog.at_level(logging.INFO):
        dm = datamodule(MNISTDataModule, tmp_path, [], official.files)  # check_leakage: warn
        dm.setup()
    # The official test split is kept as published; the duplicates are reported.
    assert len(dm.test_set) == 40 and len(dm.train_set) + len(dm.val_set) == 100
    shared = [r.message for r in caplog.records if r.levelno == logging.WARNING and "leakage" in r.message]
    assert shared and all("of the 'test' split also in the" in message for message in shared)
    assert sum(int(message.split("leakage: ")[1].split()[0]) for message in shared) == 3
    assert "train: 90 samples, per class {0: " in caplog.text  # the class balance of each split
    with pytest.raises(DataLeakageError, match=r"example\(s\) of the 'test' split also in the"):
        datamodule(MNISTDataModule, tmp_path, [], official.files, check_leakage=True).setup()


def test_a_data_config_without_a_file_is_a_clear_error(mnist):
    files = {role: entry for role, entry in mnist.files.items() if role != "test_labels"}
    with pytest.raises(ValueError, match=r"data.files lacks test_labels: each of train_images, .* needs"):
        MNISTDataModule(data_dir="unused", mirrors=[], files=files)


# --- augmentation ------------------------------------------------------------------------------


def test_flip_mirrors_some_images_and_keeps_the_rest():
    images = torch.randn(64, 3, 8, 8)
    torch.manual_seed(0)
    out = BatchAugmentation(flip=True)(images)
    assert out.shape == images.shape
    mirrored = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, images, strict=True)]
    assert all(m != k for m, k in zip(mirrored, kept, strict=True)) and 10 < sum(mirrored) < 54
    torch.manual_seed(0)
    assert torch.equal(BatchAugmentation(flip=True)(images), out)  # the run's seed decides


@pytest.mark.parametrize("padding_mode", ["reflect", "zeros"])
def test_crop_shifts_each_image_within_its_padding(padding_mode):
    images = torch.randn(32, 1, 6, 6)
    out = BatchAugmentation(crop_padding=2, padding_mode=padding_mode)(images)
    assert out.shape == images.shape
    mode = "constant" if padding_mode == "zeros" else "reflect"
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2), mode=mode)
    offsets = []
    for o, p in zip(out, padded, strict=True):
        windows = [(t, s) for t in range(5) for s in range(5) if torch.equal(p[:, t : t + 6, s : s + 6], o)]
        assert windows, "a crop must be a window of the padded image"
        offsets.append(windows[0])
    assert len(set(offsets)) > 5  # random offsets, not one shift for the whole batch


def test_reflect_padding_larger_than_the_image_is_a_clear_error(mnist):
    with pytest.raises(ValueError, match=r"data.augment.crop_padding=28: reflect padding needs less"):
        MNISTDataModule(data_dir="unused", mirrors=[], files=mnist.files, augment={"crop_padding": 28})


class RecordingClassifier(L.LightningModule):
    """Keeps every batch it is given, per stage."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(28 * 28, 10)
        self.seen = {"train": [], "val": [], "test": []}

    def _step(self, stage, batch):
        x, y = batch
        self.seen[stage].append(x.clone())
        return nn.functional.cross_entropy(self.layer(x.flatten(1)), y)

    def training_step(self, batch, batch_idx):
        return self._step("train", batch)

    def validation_step(self, batch, batch_idx):
        self._step("val", batch)

    def test_step(self, batch, batch_idx):
        self._step("test", batch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


@pytest.mark.parametrize("augment", [None, {"flip": True, "crop_padding": 3}])
def test_augmentation_changes_training_batches_only(tmp_path, server, mnist, augment):
    dm = datamodule(MNISTDataModule, tmp_path, [server.url("good/")], mnist.files, augment=augment)
    model = RecordingClassifier()
    trainer = L.Trainer(
        max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    trainer.fit(model, datamodule=dm)
    trainer.test(model, datamodule=dm)
    seen = {stage: torch.cat(batches) for stage, batches in model.seen.items()}
    assert seen["train"].shape == (2 * 90, 1, 28, 28)
    # Validation (sanity check plus 2 epochs) and test batches are the stored images, untouched.
    assert torch.equal(seen["val"], torch.cat([dm.val_set.tensors[0]] * 3))
    assert torch.equal(seen["test"], dm.test_set.tensors[0])
    stored = {image.numpy().tobytes() for image in dm.train_set.tensors[0]}
    changed = sum(image.numpy().tobytes() not in stored for image in seen["train"])
    if augment is None:
        assert changed == 0
    else:
        assert changed > 0.8 * len(seen["train"])


# --- train.py end to end -----------------------------------------------------------------------


# Digits are shifted, never mirrored; CIFAR gets its usual flips and crops.
AUGMENT = {
    "mnist": ["data.augment.crop_padding=2", "data.augment.padding_mode=zeros"],
    "cifar10": ["data.augment.flip=true", "data.augment.crop_padding=4"],
}


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_train_py_trains_and_tests_on_every_official_test_image(tmp_path, server, mnist, cifar, name):
    official = {"mnist": mnist, "cifar10": cifar}[name]
    run_dir = tmp_path / "run"
    run_script(
        "train.py",
        f"data={name}",
        f"data.data_dir={tmp_path / 'data'}",
        f"data.mirrors=[{server.url('good/')}]",
        *official.overrides(),
        *AUGMENT[name],
        "model=cnn",
        "model.net.channels=[8]",
        "trainer.max_epochs=1",
        "logger=csv",
        "callbacks=[default,visualise]",
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={tmp_path / 'logs'}",
    )
    record = read_run(run_dir)
    assert record["status"] == "completed" and record["choices"]["data"] == name
    assert 0 <= record["metrics"]["test/acc"] <= 1
    # The confusion matrix counts every test prediction: all 40 official test images, 4 per class.
    with open(run_dir / "per_class.csv") as file:
        support = {row["class"]: int(row["support"]) for row in csv.DictReader(file)}
    names = CIFAR10_NAMES if name == "cifar10" else [str(digit) for digit in range(10)]
    assert support == dict.fromkeys(names, 4)
    assert (run_dir / "predictions.png").stat().st_size > 0
    # The data module's settings travel in the checkpoint as plain values: it loads with weights_only.
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["datamodule_hyper_parameters"]["files"] == official.files
