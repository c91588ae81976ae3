"""A verified archive unpacked once, whole or not at all, beside the archive itself.

The archive is extracted into a temporary directory unique to the process, a checksum list of
what came out is written into it, and the directory is renamed into place. A folder that exists
is therefore complete; concurrent jobs each extract their own copy and the first rename wins.
The archive stays beside it, so a rerun verifies the archive's checksum instead of downloading.
"""

import logging
import os
import shutil
import socket
import tarfile
from pathlib import Path

from .download import md5_of

log = logging.getLogger(__name__)

CHECKSUMS = "checksums.md5"


def unpacked_folder(archive: Path) -> Path:
    """Where `unpack_once` puts `<dir>/<name>.tar.gz`: `<dir>/<name>/`."""
    return archive.parent / archive.name.removesuffix(".gz").removesuffix(".tar").removesuffix(".tgz")


def unpack_once(archive: Path) -> Path:
    """The unpacked folder of `archive` (a checksum-verified tar or tar.gz); unpacked only when
    missing or when its files no longer match the checksums recorded at unpacking."""
    archive = Path(archive)
    destination = unpacked_folder(archive)
    if destination.is_dir() and not _changed_files(destination):
        return destination
    unique = f"{socket.gethostname()}.{os.getpid()}"
    scratch = destination.parent / f".{destination.name}.{unique}.tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        _extract(archive, scratch)
        _write_checksums(scratch)
        if destination.is_dir() and not _changed_files(destination):
            return destination  # another job unpacked it meanwhile: whole, since it renamed it into place
        if destination.is_dir():
            log.warning(f"{destination}: files differ from when they were unpacked; unpacking again")
            stale = destination.parent / f".{destination.name}.{unique}.stale"
            os.replace(destination, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(scratch, destination)
            log.info(f"{archive} unpacked into {destination}")
        except OSError:
            if not destination.is_dir():
                raise
            # Another job renamed its copy into place first: the same files, so use those.
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return destination


def _extract(archive: Path, folder: Path) -> None:
    """Regular files and folders inside `folder` only: no links, devices or paths leaving it."""
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder, filter="data")
            return
        # Python < 3.10.12 has no extraction filters: refuse what the "data" filter would.
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in parts:
                raise ValueError(f"{archive}: unsafe member {member.name!r}; refusing to unpack it")
        tar.extractall(folder)


def verified_member(folder: Path, relative: str) -> Path:
    """`folder/relative`, after checking it against the checksum recorded when it was unpacked."""
    path = Path(folder) / relative
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{folder} is missing: prepare_data() downloads and unpacks it")
    expected = _read_checksums(folder).get(relative)
    if expected is None or not path.is_file():
        raise FileNotFoundError(f"{path} is missing: delete {folder} to unpack its archive again")
    if md5_of(path) != expected:
        raise ValueError(f"{path} changed since it was unpacked: delete {folder} to unpack its archive again")
    return path


def _write_checksums(folder: Path) -> None:
    lines = [
        f"{md5_of(path)}  {path.relative_to(folder).as_posix()}\n"
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]
    (folder / CHECKSUMS).write_text("".join(lines))


def _read_checksums(folder: Path) -> dict[str, str]:
    """relative path -> MD5, from the `md5sum`-style list written at unpacking."""
    try:
        text = (Path(folder) / CHECKSUMS).read_text()
    except FileNotFoundError:
        return {}
    return {name: md5 for md5, _, name in (line.partition("  ") for line in text.splitlines())}


def _changed_files(folder: Path) -> list[str]:
    recorded = _read_checksums(folder)
    if not recorded:
        return [CHECKSUMS]
    return [
        name
        for name, md5 in recorded.items()
        if not (folder / name).is_file() or md5_of(folder / name) != md5
    ]
