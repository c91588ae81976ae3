"""A user's table read from a CSV or Parquet file, with errors that name the file and the row."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

# pandas reads these compressed as they are; the format is the suffix before them.
COMPRESSIONS = {".gz", ".bz2", ".zip", ".xz", ".zst"}
TEXT_FORMATS = {".csv": ",", ".tsv": "\t"}
PARQUET_FORMATS = {".parquet", ".pq"}
SUPPORTED = ".csv, .tsv (also compressed, e.g. .csv.gz), .parquet or .pq"


@dataclass(frozen=True)
class Table:
    """The rows of one file, and where they came from (`key` is the config key naming the file)."""

    frame: pd.DataFrame
    path: Path
    key: str

    def where(self, row: int) -> str:
        """Where row `row` (the frame's index, 0-based) is in the file, as a person would look for it."""
        if _format(self.path) in TEXT_FORMATS:
            # Line 1 is the header.
            return f"line {row + 2} of {self.path}"
        return f"row {row + 1} of {self.path}"


def resolve(path: str | Path, root_dir: str | Path | None) -> Path:
    """A relative path is read from `root_dir` (the project root), wherever the run was started."""
    path = Path(path).expanduser()
    if not path.is_absolute() and root_dir is not None:
        path = Path(root_dir) / path
    return path.resolve()


def read_table(path: str | Path, key: str, root_dir: str | Path | None = None) -> Table:
    """The table at `path`, chosen by suffix: pandas.read_csv for text, pandas.read_parquet for Parquet."""
    file = resolve(path, root_dir)
    if not file.is_file():
        as_given = Path(path).expanduser().is_absolute() or root_dir is None
        note = "" if as_given else f" (a relative {key} is read from the project root {root_dir})"
        what = "is a directory, not a table file" if file.is_dir() else "no such file"
        raise FileNotFoundError(f"{key}={path}: {what} {file}{note}")
    file_format = _format(file)
    if file_format not in TEXT_FORMATS and file_format not in PARQUET_FORMATS:
        raise ValueError(
            f"{key}={path}: cannot read '{file_format or file.name}' files; give a {SUPPORTED} table"
        )
    try:
        if file_format in PARQUET_FORMATS:
            frame = pd.read_parquet(file)
        else:
            frame = pd.read_csv(file, sep=TEXT_FORMATS[file_format])
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{key}={path}: {file} is empty; it needs a header line and one row per example"
        ) from None
    except Exception as error:  # pandas and pyarrow raise many types for a malformed file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"{key}={path}: {file} is not a readable {file_format[1:]} table: {reason}"
        ) from error
    if frame.empty:
        raise ValueError(f"{key}={path}: {file} has no rows, only the columns {column_list(frame.columns)}")
    if not isinstance(frame.index, pd.RangeIndex):
        # A Parquet file written from an indexed frame: its index is a column like any other.
        frame = frame.reset_index()
    # Row positions are what errors report: a fresh 0..N-1 index.
    return Table(frame.reset_index(drop=True), file, key)


def _format(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def column_list(columns, limit: int = 30) -> str:
    """Column names for a message, cut short for wide tables."""
    names = [str(column) for column in columns]
    more = f" ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
