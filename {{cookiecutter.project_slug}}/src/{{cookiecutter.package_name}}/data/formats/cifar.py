"""CIFAR's "python version" batches (https://www.cs.toronto.edu/~kriz/cifar.html).

Each batch is a pickled dict: b"data", N rows of 3072 uint8 (1024 red, 1024 green, 1024 blue
values of a 32x32 image, row by row) and b"labels", N class indices; `batches.meta` holds
b"label_names". Unpickling can run code, so only files whose checksum was verified are read.
"""

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

IMAGE_SHAPE = (3, 32, 32)


class CIFARFormatError(ValueError):
    pass


def read_batches(paths: Sequence[Path], labels_key: bytes = b"labels") -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of the batches at `paths`, in order."""
    images, labels = [], []
    for path in paths:
        batch = _unpickle(path)
        if b"data" not in batch or labels_key not in batch:
            raise CIFARFormatError(f"{path}: not a CIFAR batch (no b'data' and {labels_key!r} entries)")
        data, batch_labels = np.asarray(batch[b"data"]), np.asarray(batch[labels_key])
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != np.prod(IMAGE_SHAPE):
            raise CIFARFormatError(f"{path}: b'data' is {data.dtype} {data.shape}, expected uint8 (N, 3072)")
        if batch_labels.shape != (len(data),):
            raise CIFARFormatError(f"{path}: {len(batch_labels)} labels for {len(data)} images")
        images.append(data.reshape(-1, *IMAGE_SHAPE))
        labels.append(batch_labels.astype(np.int64))
    return np.concatenate(images), np.concatenate(labels)


def read_label_names(path: Path, key: bytes = b"label_names") -> list[str]:
    meta = _unpickle(path)
    if key not in meta:
        raise CIFARFormatError(f"{path}: no {key!r} entry")
    return [name.decode() if isinstance(name, bytes) else str(name) for name in meta[key]]


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as file:
        try:
            content = pickle.load(file, encoding="bytes")
        except Exception as error:  # a pickle can fail in many ways; all mean "not this format"
            raise CIFARFormatError(f"{path}: not a pickled CIFAR batch ({error})") from None
    if not isinstance(content, dict):
        raise CIFARFormatError(f"{path}: holds a {type(content).__name__}, expected a dict")
    return content
