"""A failed run ends with one line on stderr: what is wrong and what would be right.

`HYDRA_FULL_ERROR=1` shows the full traceback instead. Two places need this: errors while the
run trains (raised inside `main`), and config errors that Hydra reports on several lines before
`main` starts (an unknown config option, a misspelled key). Inside a sweep, a job's error is left
to Hydra, which records it and goes on with the other jobs.
"""

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from hydra.experimental.callback import Callback

from .run_record import in_sweep

PREFIX = "Error: "
CRYPTIC_ERRORS = (KeyError, IndexError, AttributeError, TypeError, NameError, AssertionError)
HINT = " (HYDRA_FULL_ERROR=1 shows the traceback)"


def wants_traceback() -> bool:
    return os.environ.get("HYDRA_FULL_ERROR") == "1"


@contextmanager
def errors_in_one_line() -> Iterator[None]:
    """Around the body of `main`: an exception becomes one line on stderr and exit status 1."""
    release_held_stderr()
    try:
        yield
    except Exception as error:
        if wants_traceback() or in_sweep():
            raise
        print(PREFIX + one_line(error) + HINT, file=sys.stderr)
        raise SystemExit(1) from None


def one_line(error: BaseException) -> str:
    """The message of `error`; for a config object that failed to build, its key and its cause."""
    cause = error.__cause__
    key = re.search(r"full_key: (\S+)", str(error))
    if cause is not None and str(error).startswith("Error in call to target"):
        return f"{key.group(1) if key else 'config'}: {one_line(cause)}"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    message = "; ".join(lines) or type(error).__name__
    # These say little without their type: KeyError('loss') prints as 'loss'.
    if isinstance(error, CRYPTIC_ERRORS):
        message = f"{type(error).__name__}: {message}"
    return message


class _HeldStderr:
    """stderr that keeps what is written until released, to rewrite Hydra's config errors."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.held: list[str] = []

    def write(self, text: str) -> int:
        self.held.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self.real, name)


_held: _HeldStderr | None = None


def release_held_stderr() -> None:
    """What was held goes out as written, and stderr is itself again (`main` has started)."""
    global _held
    if _held is not None:
        sys.stderr = _held.real
        sys.stderr.write("".join(_held.held))
        _held = None


class ReleaseHeldStderr(Callback):
    """Hydra callback (configs/hydra/default.yaml): the config is composed and the run directory
    made, so whatever stderr held goes out, and later output is not held (a SLURM sweep's launcher
    never runs `main` itself)."""

    def on_multirun_start(self, config, **kwargs) -> None:
        release_held_stderr()

    def on_job_start(self, config, **kwargs) -> None:
        release_held_stderr()


@contextmanager
def config_errors_in_one_line() -> Iterator[None]:
    """Around the call of `main()`: Hydra's config errors, raised before `main` runs, as one line."""
    global _held
    if wants_traceback():
        yield
        return
    _held = _HeldStderr(sys.stderr)
    sys.stderr = _held
    try:
        yield
    except SystemExit as exit_:
        if _held is None or exit_.code in (0, None):
            raise
        message = condensed("".join(_held.held))
        _held.held.clear()
        release_held_stderr()
        print(PREFIX + message + HINT, file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        release_held_stderr()


def condensed(report: str) -> str:
    """Hydra's several-line report of a config error as one line."""
    lines = report.splitlines()
    if any(line.startswith("Traceback") for line in lines):
        # An error raised while Hydra prepared the run: its last line says what it was.
        last = next(line for line in reversed(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line))
        if any("mkdir" in line for line in lines):
            last += (
                "; the run directory could not be created: choose a writable paths.log_dir or hydra.run.dir"
            )
        return last
    kept, options_of = [], None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(
            ("Config search path", "provider=", "Set the environment variable HYDRA_FULL")
        ):
            continue
        if stripped.startswith("Available options in"):
            options_of = stripped.rstrip(":")
            kept.append(options_of[0].lower() + options_of[1:] + ":")
            continue
        if options_of and line.startswith("\t"):
            kept[-1] += ("" if kept[-1].endswith(":") else ",") + " " + stripped
            continue
        options_of = None
        if stripped:
            kept.append(stripped)
    return "; ".join(kept)
