"""Command-line overrides as Hydra records them (`key=value`, `+key=value`, `++key=value`, `~key`)."""

from collections.abc import Iterable


def override_key(override: str) -> str:
    """`model.lr` for `model.lr=0.1`, `+model.lr=0.1` and `~model.lr`."""
    return str(override).lstrip("+~").split("=", 1)[0]


def override_value(overrides: Iterable[str], key: str) -> str | None:
    """The value given to `key` (`seed=3` -> "3"), the last one if given twice; None if not given."""
    values = [str(o).split("=", 1)[1] for o in overrides if override_key(o) == key and "=" in str(o)]
    return values[-1] if values else None
