"""A failed run ends with one line on stderr: what is wrong and what would be right.

`HYDRA_FULL_ERROR=1` shows the full traceback instead. Two places need this: errors while the
run trains (raised inside `main`), and Hydra's own errors before `main` starts (an unknown config
option or key, an override it cannot parse, a run directory it cannot create). Inside a sweep, a
job's error is left to Hydra, which records it and goes on with the other jobs.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from hydra.experimental.callback import Callback
from omegaconf.errors import OmegaConfBaseException

from ..launch.ranks import in_sweep
from .pasted_paths import how_to_quote

PREFIX = "Error: "
CRYPTIC_ERRORS = (KeyError, IndexError, AttributeError, TypeError, NameError, AssertionError)
HINT = " (HYDRA_FULL_ERROR=1 shows the traceback)"
FULL_ERROR = "HYDRA_FULL_ERROR"


def wants_traceback() -> bool:
    return os.environ.get(FULL_ERROR) == "1"


@contextmanager
def errors_in_one_line() -> Iterator[None]:
    """Around the body of `main`: an exception becomes one line on stderr and exit status 1."""
    stop_raising_hydra_errors()
    try:
        yield
    except Exception as error:
        if wants_traceback() or in_sweep():
            raise
        print(PREFIX + one_line(error) + HINT, file=sys.stderr)
        raise SystemExit(1) from None


def one_line(error: BaseException) -> str:
    """The message of `error`, its lines joined."""
    lines = [line.strip().removesuffix(".") for line in str(error).splitlines() if line.strip()]
    message = "; ".join(lines) or type(error).__name__
    # These say little without their type: KeyError('loss') prints as 'loss'. OmegaConf's errors
    # derive from them but say what they are.
    if isinstance(error, CRYPTIC_ERRORS) and not isinstance(error, OmegaConfBaseException):
        message = f"{type(error).__name__}: {message}"
    return message


# While Hydra composes the config and makes the run directory: the environment's HYDRA_FULL_ERROR
# before this module set it, to put back ({name: None} when it was unset); None at other times.
_saved: dict[str, str | None] | None = None


@contextmanager
def config_errors_in_one_line() -> Iterator[None]:
    """Around the call of `main()`: Hydra's errors from before `main` runs, as one line.

    Hydra prints these on several lines (with its config search path) unless `HYDRA_FULL_ERROR=1`,
    its documented switch to raise them instead. The switch is on here until the job starts
    (`StopRaisingHydraErrors`, configs/hydra/default.yaml), so each error reaches this block as
    an exception and is written by its type, never by reading Hydra's wording. From then on Hydra
    and the run see the environment as it was.
    """
    global _saved
    if wants_traceback():
        yield
        return
    _saved = {FULL_ERROR: os.environ.get(FULL_ERROR)}
    os.environ[FULL_ERROR] = "1"
    try:
        yield
    except Exception as error:
        if _saved is None:  # raised after the job started: Hydra's own report
            raise
        print(PREFIX + hydra_error_line(error) + HINT, file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        stop_raising_hydra_errors()


def stop_raising_hydra_errors() -> None:
    global _saved
    if _saved is not None:
        before = _saved[FULL_ERROR]
        if before is None:
            os.environ.pop(FULL_ERROR, None)
        else:
            os.environ[FULL_ERROR] = before
        _saved = None


def hydra_error_line(error: Exception) -> str:
    """One of Hydra's errors from before `main`, as one line, by its type."""
    if isinstance(error, MissingConfigException) and error.missing_cfg_file:
        line = f"Could not find '{error.missing_cfg_file}'"
        if error.options:
            line += f"; available options in '{error.missing_cfg_file.rpartition('/')[0]}': "
            line += ", ".join(error.options)
        return line
    if isinstance(error, OverrideParseException) and how_to_quote(error.override):
        # A path that exists was quoted already (cli/pasted_paths.py): this one does not, or is no path.
        return f"cannot parse the override {error.override}: quote the value: {how_to_quote(error.override)}"
    if isinstance(error, ConfigCompositionException) and isinstance(error.__cause__, OmegaConfBaseException):
        return f"{one_line(error)}; {one_line(error.__cause__)}"
    if isinstance(error, OSError) and not isinstance(error, ConfigCompositionException):
        # Before `main`, Hydra writes only to the run directory.
        fix = "the run directory could not be created: choose a writable paths.log_dir or hydra.run.dir"
        return f"{one_line(error)}; {fix}"
    return one_line(error)


class StopRaisingHydraErrors(Callback):
    """Hydra callback (configs/hydra/default.yaml): the config is composed and the run directory
    made, so Hydra reports errors its own way again (a sweep's launcher never runs `main`)."""

    def on_multirun_start(self, config, **kwargs) -> None:
        stop_raising_hydra_errors()

    def on_job_start(self, config, **kwargs) -> None:
        stop_raising_hydra_errors()
