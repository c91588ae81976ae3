"""A CIFAR-10-shaped archive (the "python version" layout, 32x32x3 uint8, ten classes) made offline,
for the GPU workload.

Each class has its own random colour pattern; an image is its class's pattern, shifted at random
by a few pixels, plus pixel noise: learnable, and with CIFAR-10's shapes, file names and format,
so that the project's `data=cifar10` reads it from a local mirror and the plain loop reads the same.
"""

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = 5
SIDE, SHIFT = 32, 4


def synthetic_images(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(count, 3072) uint8 rows as CIFAR stores them (red, green, blue planes) and their labels."""
    size = SIDE + SHIFT
    patterns = np.random.default_rng(1234).integers(0, 160, (len(CLASS_NAMES), 3, size, size), dtype=np.uint8)
    labels = rng.integers(0, len(CLASS_NAMES), count)
    rows, cols = rng.integers(0, SHIFT + 1, count), rng.integers(0, SHIFT + 1, count)
    # Each image's window into its class's pattern, gathered at once: (count, 3, 32, 32).
    r = rows[:, None, None, None] + np.arange(SIDE)[None, None, :, None]
    c = cols[:, None, None, None] + np.arange(SIDE)[None, None, None, :]
    images = patterns[labels[:, None, None, None], np.arange(3)[None, :, None, None], r, c]
    images += rng.integers(0, 96, images.shape, dtype=np.uint8)  # at most 159 + 95: no overflow
    return images.reshape(count, -1), labels.astype(np.int64)


def _member(tar: tarfile.TarFile, name: str, content: dict) -> None:
    data = pickle.dumps(content, protocol=2)
    info = tarfile.TarInfo(f"{FOLDER}/{name}")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_cifar_archive(directory: Path, train: int = 20000, test: int = 5000, seed: int = 0) -> str:
    """`cifar-10-python.tar.gz` in `directory`; returns its md5."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    path = directory / ARCHIVE
    # Level 1: random pixels barely compress, and level 9 would take most of a minute.
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        _member(tar, "batches.meta", {b"label_names": [name.encode() for name in CLASS_NAMES]})
        images, labels = synthetic_images(train, rng)
        for index, (part, part_labels) in enumerate(
            zip(np.array_split(images, TRAIN_BATCHES), np.array_split(labels, TRAIN_BATCHES), strict=True)
        ):
            _member(tar, f"data_batch_{index + 1}", {b"data": part, b"labels": part_labels.tolist()})
        images, labels = synthetic_images(test, rng)
        _member(tar, "test_batch", {b"data": images, b"labels": labels.tolist()})
    return hashlib.md5(path.read_bytes()).hexdigest()


def read_cifar_archive(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((train images, labels), (test images, labels)); images uint8 (N, 3, 32, 32), in file order."""
    with tarfile.open(path) as tar:

        def batch(name: str) -> tuple[np.ndarray, np.ndarray]:
            content = pickle.load(tar.extractfile(f"{FOLDER}/{name}"), encoding="bytes")
            return content[b"data"].reshape(-1, 3, SIDE, SIDE), np.asarray(content[b"labels"], dtype=np.int64)

        train = [batch(f"data_batch_{index}") for index in range(1, TRAIN_BATCHES + 1)]
        test = batch("test_batch")
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])), test
