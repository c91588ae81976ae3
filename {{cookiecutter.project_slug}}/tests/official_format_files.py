"""Small files in the official formats of MNIST, Fashion-MNIST and CIFAR-10, and a real HTTP server
on 127.0.0.1 that serves them, so that downloading and parsing run for real without the internet.

The server serves the folder it is given, logs every request, and has two misbehaving routes:
`/cut/<path>` announces the whole file but sends half of it and hangs up (a dropped connection),
`/slow/<path>` sends the file in small pieces with pauses (to overlap concurrent downloads).
"""

import gzip
import hashlib
import io
import pickle
import tarfile
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
MNIST_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def md5_of(path: Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@dataclass
class OfficialFiles:
    """Files written in `folder`: `files` as in the data config ({role: {name, md5}}), and what
    they hold (uint8 images (N, C, H, W), int64 labels) to compare with what the code reads."""

    folder: Path
    files: dict[str, dict[str, str]]
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    extra: dict = field(default_factory=dict)

    def overrides(self) -> list[str]:
        """The command-line overrides that point the data config at these files' checksums."""
        return [f"data.files.{role}.md5={entry['md5']}" for role, entry in self.files.items()]


def balanced_labels(count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` labels (a multiple of 10), the same number of each class, in random order."""
    return rng.permutation(np.tile(np.arange(10), count // 10)).astype(np.int64)


def random_images(count: int, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random pixels: no two images are equal (the chance is nil), so splits cannot share any."""
    return rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)


def write_idx(path: Path, array: np.ndarray, magic_type: int = 0x08) -> Path:
    """`array` (uint8) as a gzip-compressed IDX file: magic 0x0000TTDD, big-endian sizes, data."""
    header = bytes([0, 0, magic_type, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as file:
        file.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    return path


def mnist_like_files(
    folder: Path, seed: int = 0, train: int = 100, test: int = 40, shared_with_test: int = 0
) -> OfficialFiles:
    """MNIST's four files, with random 28x28 images and balanced labels; the first
    `shared_with_test` training images (and labels) copied from the test set."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": random_images(train, (28, 28), rng),
        "train_labels": balanced_labels(train, rng),
        "test_images": random_images(test, (28, 28), rng),
        "test_labels": balanced_labels(test, rng),
    }
    for kind in ("images", "labels"):
        arrays[f"train_{kind}"][:shared_with_test] = arrays[f"test_{kind}"][:shared_with_test]
    files = {}
    for role, array in arrays.items():
        path = write_idx(folder / MNIST_NAMES[role], array)
        files[role] = {"name": path.name, "md5": md5_of(path)}
    return OfficialFiles(
        folder,
        files,
        arrays["train_images"][:, None],
        arrays["train_labels"],
        arrays["test_images"][:, None],
        arrays["test_labels"],
    )


def cifar10_files(folder: Path, seed: int = 0, per_batch: int = 20, test: int = 40) -> OfficialFiles:
    """CIFAR-10's archive: `cifar-10-batches-py/` with data_batch_1..5, test_batch and
    batches.meta, pickled dicts as in the real one, in a real tar.gz."""
    rng = np.random.default_rng(seed)
    batches = {f"data_batch_{i}": per_batch for i in range(1, 6)} | {"test_batch": test}
    contents = {
        name: (random_images(n, (3, 32, 32), rng), balanced_labels(n, rng)) for name, n in batches.items()
    }
    members = {
        name: {
            b"batch_label": name.encode(),
            b"data": images.reshape(len(images), -1),
            b"labels": labels.tolist(),
        }
        for name, (images, labels) in contents.items()
    }
    members["batches.meta"] = {
        b"label_names": [name.encode() for name in CIFAR10_NAMES],
        b"num_cases_per_batch": per_batch,
        b"num_vis": 3072,
    }
    archive = folder / "cifar-10-python.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in members.items():
            data = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size, info.mtime = len(data), time.time()
            tar.addfile(info, io.BytesIO(data))
    train = [contents[f"data_batch_{i}"] for i in range(1, 6)]
    return OfficialFiles(
        folder,
        {"archive": {"name": archive.name, "md5": md5_of(archive)}},
        np.concatenate([images for images, _ in train]),
        np.concatenate([labels for _, labels in train]),
        *contents["test_batch"],
        extra={"members": members},
    )


def corrupt_copies(official: OfficialFiles, root: Path) -> None:
    """`root/truncated/` (the first half of each file) and `root/altered/` (one byte changed)."""
    for entry in official.files.values():
        content = (official.folder / entry["name"]).read_bytes()
        for kind, corrupt in {
            "truncated": content[: len(content) // 2],
            "altered": content[:-1] + bytes([content[-1] ^ 0xFF]),
        }.items():
            (root / kind).mkdir(parents=True, exist_ok=True)
            (root / kind / entry["name"]).write_bytes(corrupt)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, server_state, **kwargs):
        self.state = server_state
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.state.requests.append(self.path)
        for route, send in (("/cut/", self._send_half), ("/slow/", self._send_slowly)):
            if self.path.startswith(route):
                path = Path(self.translate_path(self.path.removeprefix(route[:-1])))
                if not path.is_file():
                    self.send_error(404)
                    return
                send(path.read_bytes())
                return
        super().do_GET()

    def _send_headers(self, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send_half(self, content: bytes) -> None:
        self._send_headers(len(content))
        self.wfile.write(content[: len(content) // 2])
        self.close_connection = True

    def _send_slowly(self, content: bytes) -> None:
        self._send_headers(len(content))
        for start in range(0, len(content), 16384):
            self.wfile.write(content[start : start + 16384])
            self.wfile.flush()
            time.sleep(0.05)


class FileServer:
    """`root` over HTTP on 127.0.0.1 at a free port, in a thread; `requests` lists the paths asked for."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.requests: list[str] = []
        handler = partial(_Handler, directory=str(self.root), server_state=self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, folder: str = "") -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{folder}"

    def requests_for(self, name: str) -> list[str]:
        return [path for path in self.requests if path.endswith("/" + name)]

    def __enter__(self) -> "FileServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
