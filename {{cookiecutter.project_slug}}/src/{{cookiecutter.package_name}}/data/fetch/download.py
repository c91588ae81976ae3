"""Official data files fetched from a list of mirrors, kept only when their MD5 checksum matches.

A file is streamed to `<name>.<host>.<pid>.part` beside its final place and renamed into place
only once its checksum is right, so the jobs of a sweep downloading into one data directory (on
one machine or several sharing a file system) never see half a file or each other's.
"""

import hashlib
import http.client
import logging
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60
PROGRESS_EVERY_S = 0.5


class DownloadError(FileNotFoundError):
    """No mirror gave the file with the right checksum."""


class ChecksumMismatch(ValueError):
    pass


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # the official checksums are MD5: integrity, not security
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verified_file(name: str, md5: str, directory: Path) -> Path:
    """`directory/name` when present with checksum `md5`, else a clear error: only verified files are read."""
    path = Path(directory) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: prepare_data() downloads it, or place it there")
    actual = md5_of(path)
    if actual != md5:
        raise ValueError(f"{path}: checksum mismatch, expected MD5 {md5}, got {actual}")
    return path


def fetch(
    name: str, md5: str, mirrors: Sequence[str], directory: Path, attempts: int = 2, backoff_s: float = 1.0
) -> Path:
    """`directory/name` with MD5 `md5`: the file already there, or downloaded from the first mirror
    that serves it intact (`attempts` tries per mirror). A present file with another checksum is
    never used; it is replaced, or removed when no mirror has the right one.
    """
    directory = Path(directory)
    target = directory / name
    if target.is_file():
        actual = md5_of(target)
        if actual == md5:
            return target
        log.warning(f"{target}: checksum mismatch (expected MD5 {md5}, got {actual}); downloading it again")
    directory.mkdir(parents=True, exist_ok=True)
    part = directory / f"{name}.{socket.gethostname()}.{os.getpid()}.part"
    failures: dict[str, list[str]] = {}  # url -> why each attempt failed
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        failures[url] = _download_verified(url, md5, part, attempts, backoff_s)
        if not failures[url]:
            os.replace(part, target)
            log.info(f"{target}: downloaded from {url}, MD5 {md5} verified")
            return target
    if target.is_file() and md5_of(target) != md5:
        target.unlink(missing_ok=True)  # known to be wrong: never to be parsed
    tried = "; ".join(f"{url} ({' / '.join(dict.fromkeys(reasons))})" for url, reasons in failures.items())
    raise DownloadError(
        f"could not download {name}: {tried or 'no mirrors given'}. Fix data.mirrors, or place the file "
        f"by hand in {directory} (expected MD5 {md5})"
    )


def _download_verified(url: str, md5: str, part: Path, attempts: int, backoff_s: float) -> list[str]:
    """Why each attempt failed; none when `part` holds the file with checksum `md5`. A failed
    attempt leaves no `part` behind."""
    reasons: list[str] = []
    for attempt in range(1, attempts + 1):
        try:
            _download(url, part)
            actual = md5_of(part)
            if actual != md5:
                raise ChecksumMismatch(f"checksum mismatch: expected MD5 {md5}, got {actual}")
            return []
        except (OSError, ValueError, http.client.HTTPException) as error:
            part.unlink(missing_ok=True)
            reasons.append(_reason(error))
            # A missing file or a malformed URL would give the same answer again: next mirror.
            again = attempt < attempts and _worth_retrying(error)
            log.warning(f"{url}: {reasons[-1]}" + ("; trying it again" if again else ""))
            if not again:
                break
            time.sleep(backoff_s * attempt)
        except BaseException:
            part.unlink(missing_ok=True)  # interrupted (Ctrl-C): no half file left behind either
            raise
    return reasons


def _download(url: str, part: Path) -> None:
    """Streams `url` into `part`; raises when the connection ends before the announced size."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(part, "wb") as file:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        progress = _Progress(url, total)
        received = 0
        while chunk := response.read(CHUNK_BYTES):
            file.write(chunk)
            received += len(chunk)
            progress.update(received)
        progress.close()
    if total is not None and received != total:
        raise ConnectionError(f"truncated: got {received} of {total} bytes")


def _worth_retrying(error: BaseException) -> bool:
    """A dropped connection or a corrupt transfer may go better next time; a missing file (HTTP
    4xx, no such local file) or a malformed URL will not."""
    if isinstance(error, urllib.error.HTTPError):
        return not 400 <= error.code < 500
    reason = getattr(error, "reason", error)
    if isinstance(reason, FileNotFoundError) or isinstance(error, FileNotFoundError):
        return False
    return isinstance(error, ChecksumMismatch) or not isinstance(error, ValueError)


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__


class _Progress:
    """One line on stderr rewritten at most every PROGRESS_EVERY_S, only on a terminal: logs of
    batch jobs get the start and end lines of the logger instead of hundreds of updates."""

    def __init__(self, url: str, total: int | None) -> None:
        self.url, self.total = url, total
        self.enabled = sys.stderr.isatty()
        self.last = 0.0
        log.info(f"downloading {url}" + (f" ({total / 1e6:.1f} MB)" if total else ""))

    def update(self, received: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        share = f" ({100 * received / self.total:.0f} %)" if self.total else ""
        print(f"\r{self.url}: {received / 1e6:.1f} MB{share}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.last:
            print(file=sys.stderr)
