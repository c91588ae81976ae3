"""The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), gzip-compressed.

A big-endian header: a magic number `0x0000TTDD` (TT the element type, DD the number of
dimensions), one 32-bit size per dimension, then the elements in C order.
"""

import gzip
from pathlib import Path

import numpy as np

ELEMENT_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXFormatError(ValueError):
    pass


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The array stored in the gzip-compressed IDX file `path`, which must have `ndim` dimensions
    (3 for images: count, rows, columns; 1 for labels)."""
    try:
        with gzip.open(path, "rb") as file:
            content = file.read()
    except (OSError, EOFError) as error:
        raise IDXFormatError(f"{path}: not a gzip-compressed IDX file ({error})") from None
    expected_magic = f"0x{0x0800 | ndim:08X}"
    if len(content) < 4 or content[:2] != b"\0\0" or content[2] not in ELEMENT_TYPES or content[3] != ndim:
        magic = f"0x{content[:4].hex().upper()}" if len(content) >= 4 else "none (file too short)"
        raise IDXFormatError(
            f"{path}: not an IDX file with {ndim} dimension(s): magic number {magic}, expected "
            f"{expected_magic} (unsigned bytes)"
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise IDXFormatError(f"{path}: IDX header cut short ({len(content)} of {header} bytes)")
    shape = tuple(int(size) for size in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(ELEMENT_TYPES[content[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(content) != expected:
        raise IDXFormatError(
            f"{path}: {len(content)} bytes, but its header {shape} of {dtype.name} announces {expected}"
        )
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
