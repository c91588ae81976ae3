"""Checks on train/validation/test splits before anything trains on them."""

import hashlib
import logging
from itertools import combinations

import numpy as np

log = logging.getLogger(__name__)


class DataLeakageError(ValueError):
    pass


def check_fold(num_folds: int | None, fold: int) -> None:
    """`data.num_folds`/`data.fold` name an existing fold of a k-fold split (no k-fold: None)."""
    if num_folds is not None and not (num_folds >= 2 and 0 <= fold < num_folds):
        raise ValueError(
            f"data.fold={fold} with data.num_folds={num_folds}: need num_folds >= 2 and fold in "
            f"0..{max(num_folds, 2) - 1}"
        )


def check_splits(
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    num_classes: int | None,
    check_leakage: bool | str,
) -> None:
    """Logs each split's class balance (classification: `num_classes` given), warns about classes a
    split lacks, and fails when two splits share an example (identical content).

    `check_leakage="warn"` logs the shared examples instead: for official benchmark splits, which
    cannot be changed without breaking comparability with published results. `False` skips the check.
    """
    if check_leakage not in (True, False, "warn"):
        raise ValueError(f"data.check_leakage={check_leakage!r}: use true, false or warn")
    for name, (_, labels) in splits.items():
        if num_classes is None:
            log.info(f"{name}: {len(labels)} samples")
            continue
        counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)
        log.info(f"{name}: {len(labels)} samples, per class {dict(enumerate(counts.tolist()))}")
        missing = np.flatnonzero(counts == 0).tolist()
        if missing:
            log.warning(
                f"{name} split has no sample of class(es) {missing}: its per-class metrics are undefined"
            )
    if check_leakage is False:
        return
    for message in shared_examples({name: features for name, (features, _) in splits.items()}):
        if check_leakage == "warn":
            log.warning(f"{message} (data.check_leakage=warn)")
        else:
            raise DataLeakageError(
                f"{message}; remove the duplicates, or set data.check_leakage=false (or warn) to accept them"
            )


def shared_examples(splits: dict[str, np.ndarray]) -> list[str]:
    """One message per pair of splits that hold identical examples."""
    hashes = {name: {_digest(row) for row in features} for name, features in splits.items()}
    return [
        f"data leakage: {len(hashes[a] & hashes[b])} example(s) of the '{b}' split also in the '{a}' split"
        for a, b in combinations(splits, 2)
        if hashes[a] & hashes[b]
    ]


def _digest(example: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(example).tobytes(), digest_size=16).digest()
