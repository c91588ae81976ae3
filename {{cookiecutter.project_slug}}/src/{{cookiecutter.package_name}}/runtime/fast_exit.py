"""Exit without the interpreter's last garbage collection over every object still alive."""

import atexit
import functools
import gc


@functools.cache  # registered once per process, however many sweep jobs it runs
def skip_final_garbage_collection() -> None:
    """When Python exits it collects garbage once more, over every object of every module still
    loaded: with torch, Lightning and their dependencies that is about 1 s for each run and each
    sweep worker (the plain benchmark loop pays it too). `gc.freeze()`, run after every exit handler
    registered later (loggers, wandb, joblib's workers), puts those objects out of that
    collection's reach. Files are still flushed and closed: logging's handler runs after it, and
    CPython never promised to finalize objects still alive at exit.
    """
    atexit.register(gc.freeze)
