"""Loggers closed at the end of every job, so that the next job of a sweep starts afresh."""

import sys


def finish_loggers() -> None:
    """Close the W&B run, so that the next job of a sweep starts its own run instead of reusing it.

    Never raises: it runs in a `finally`, where an error here would hide why training stopped.
    Under SLURM a preemption signals every process of the job, W&B's service among them, and the
    job must then end with Lightning's SIGTERM exit (requeued), not with a W&B connection error.
    """
    if "wandb" not in sys.modules:
        return
    try:
        sys.modules["wandb"].finish()
    except Exception as error:  # noqa: BLE001 (any failure to close is reported, not raised)
        print(f"W&B: could not close the run cleanly ({type(error).__name__}: {error})", file=sys.stderr)
