"""Import the deep-learning stack with the garbage collector paused, and keep the collector away
from the objects alive after it."""

import gc
import importlib
import sys

DEEP_LEARNING_STACK = ("torch", "lightning", "torchmetrics")


def import_frozen(*modules: str) -> None:
    """Importing torch, Lightning and torchmetrics creates about 400,000 long-lived objects, and the
    collector runs full collections over all of them while they are being made: 7 of them, about
    0.7 s of a 4-5 s import on a 2-core machine. Afterwards every full collection (several per run,
    one after every job in joblib's workers) walked them again for nothing: they live until exit.

    Garbage made so far (Hydra's discarded configs) is collected first, while that is cheap; then
    the imports run with the collector paused, and `gc.freeze()` puts everything alive at that
    point, the few cycles the imports left included, where the collector never looks again.
    Objects made later are collected as before.
    """
    if all(module in sys.modules for module in modules):
        # Imported already, by an earlier job of a sweep run in this process: nothing to gain,
        # and a freeze now would keep that job's uncollected trainer and model for good.
        return
    gc.collect()
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
        import_frozen(*DEEP_LEARNING_STACK)
