"""MNIST-format files (gzipped IDX, 28x28 uint8) made offline, for the compute-heavier CNN workload.

The images are scikit-learn's 8x8 digits scaled up threefold, placed at a random offset in a 28x28
frame, with pixel noise: a learnable ten-class task with MNIST's shapes, file names and format, so
that the project's `data=mnist` can read them from a local mirror and the plain loop reads the same.
"""

import gzip
import hashlib
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
SIDE = 28


def synthetic_digits(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    pick = rng.integers(0, len(x), count)
    small = x[pick].reshape(-1, 8, 8) / 16.0
    large = np.kron(small, np.ones((3, 3)))  # 24x24
    images = np.zeros((count, SIDE, SIDE))
    offsets = rng.integers(0, SIDE - 24 + 1, size=(count, 2))
    for image, patch, (row, col) in zip(images, large, offsets, strict=True):
        image[row : row + 24, col : col + 24] = patch
    images = np.clip(images + rng.normal(0.0, 0.1, images.shape), 0.0, 1.0)
    return (images * 255).round().astype(np.uint8), y[pick].astype(np.uint8)


def _write_idx(path: Path, magic: int, array: np.ndarray) -> str:
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    data = header + array.tobytes()
    with gzip.open(path, "wb") as file:
        file.write(data)
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_mnist_files(directory: Path, train: int = 10000, test: int = 2000, seed: int = 0) -> dict[str, str]:
    """The four files in `directory`; returns the md5 of each, keyed like FILES."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    md5 = {}
    for split, count in (("train", train), ("test", test)):
        images, labels = synthetic_digits(count, rng)
        md5[f"{split}_images"] = _write_idx(directory / FILES[f"{split}_images"], IMAGES_MAGIC, images)
        md5[f"{split}_labels"] = _write_idx(directory / FILES[f"{split}_labels"], LABELS_MAGIC, labels)
    return md5


def _read_idx(path: Path, magic: int) -> np.ndarray:
    data = gzip.decompress(path.read_bytes())
    dims = data[3]
    header = np.frombuffer(data, dtype=">i4", count=1 + dims)
    if header[0] != magic:
        raise ValueError(f"{path}: not an IDX file of this kind (magic {header[0]}, expected {magic})")
    return np.frombuffer(data, dtype=np.uint8, offset=4 * (1 + dims)).reshape(header[1:])


def read_mnist_files(directory: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((train images, labels), (test images, labels)); images as float arrays of shape (N, 28, 28)."""
    return tuple(
        (
            _read_idx(directory / FILES[f"{split}_images"], IMAGES_MAGIC).astype(np.float64),
            _read_idx(directory / FILES[f"{split}_labels"], LABELS_MAGIC).astype(np.int64),
        )
        for split in ("train", "test")
    )
