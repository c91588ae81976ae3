"""Import the deep-learning stack with the garbage collector paused, and keep the collector away
from what the imports made."""

import functools
import gc
import importlib


# Once per process: in a sweep that runs several jobs in one process, a later job freezing again
# would also freeze whatever the earlier jobs left for the collector (trainers, models in cycles).
@functools.cache
def import_frozen(*modules: str) -> None:
    """Importing torch, Lightning and torchmetrics creates about 400,000 long-lived objects, and the
    collector runs full collections over all of them while they are being made: 7 of them, about
    0.7 s of a 4-5 s import on a 2-core machine. Afterwards every full collection (several per run,
    one after every job in joblib's workers) walked them again for nothing: they live until exit.
    Paused during the imports, and `gc.freeze()` after them: what exists at that point is never
    scanned again; objects made later are collected as before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def import_deep_learning_stack(cfg) -> None:
    """torch, Lightning and torchmetrics, imported frozen unless `extras.freeze_imports=false`
    (then each is imported where it is first used, as usual)."""
    if (cfg.get("extras") or {}).get("freeze_imports"):
        import_frozen("torch", "lightning", "torchmetrics")
