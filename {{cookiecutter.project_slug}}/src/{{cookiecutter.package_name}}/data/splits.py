"""Train/validation/test splits, drawn one way for every data module, and the checks on them
before anything trains on them."""

import hashlib
import logging
import re
from itertools import combinations

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

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


def split_indices(
    num_examples: int,
    labels: np.ndarray | None = None,
    *,
    val_fraction: float,
    test_fraction: float | None,
    split_seed: int = 0,
    num_folds: int | None = None,
    fold: int = 0,
    examples: str = "examples",
) -> dict[str, np.ndarray]:
    """The positions 0..num_examples-1 of "train", "val" and "test", in the order drawn.

    Stratified by `labels` (classification); `labels=None` draws without (regression). The split
    depends on `split_seed` alone, never on the run's seed. `test_fraction` and `val_fraction` are
    shares of all the examples. `test_fraction=None`: the test split is fixed elsewhere (an official
    test set, a separate table), only "train" and "val" are drawn, and `val_fraction` is a share of
    these examples. With `num_folds=K`, "val" is fold `fold` of a (stratified) K-fold split of
    everything but the test split, which is the same for every fold. `examples` names them in the
    error raised when the split is impossible (e.g. a class with one example).
    """
    positions = np.arange(num_examples)
    try:
        if test_fraction is None:
            rest, test = positions, None
        else:
            rest, test = train_test_split(
                positions, test_size=test_fraction, stratify=labels, random_state=split_seed
            )
        rest_labels = None if labels is None else labels[rest]
        if num_folds is None:
            # The validation fraction is of the whole data set, not of what the test split left.
            val_size = val_fraction if test is None else val_fraction / (1.0 - test_fraction)
            train, val = train_test_split(
                rest, test_size=val_size, stratify=rest_labels, random_state=split_seed
            )
        else:
            folds = (KFold if labels is None else StratifiedKFold)(
                n_splits=num_folds, shuffle=True, random_state=split_seed
            )
            train_index, val_index = list(folds.split(rest, rest_labels))[fold]
            train, val = rest[train_index], rest[val_index]
    except ValueError as error:
        keys = [f"data.val_fraction={val_fraction}"]
        keys += [] if test_fraction is None else [f"data.test_fraction={test_fraction}"]
        keys += [] if num_folds is None else [f"data.num_folds={num_folds}"]
        by_class = "" if labels is None else " by class"
        problem = (
            f"cannot split the {num_examples} {examples}{by_class} with {', '.join(keys)}: {_one_line(error)}"
        )
        hint = _numeric_hint(labels)
        # The likelier cause first: a number to predict read as classes.
        raise ValueError(
            f"{hint} ({problem})" if hint else f"{problem}; use more data or other fractions"
        ) from error
    return {"train": train, "val": val} if test is None else {"train": train, "val": val, "test": test}


def _one_line(error: Exception) -> str:
    """scikit-learn's message on one line, a long list in it (every class too small) cut short."""

    def shortened(listed: re.Match) -> str:
        items = listed.group(1).split(", ")
        return listed.group(0) if len(items) <= 5 else f"[{', '.join(items[:5])}, ... ({len(items)} in all)]"

    return re.sub(r"\[([^\[\]]*)\]", shortened, " ".join(str(error).split()))


def _numeric_hint(labels: np.ndarray | None) -> str:
    """For labels that look like a number to predict rather than classes (fractions, or many
    distinct values: scikit-learn's diabetes target has 214 in 442 rows), the way to regression."""
    if labels is None or np.asarray(labels).dtype.kind not in "iuf":
        return ""
    values = np.unique(labels)
    fractional = values.dtype.kind == "f" and bool(np.any(values != np.round(values)))
    if not fractional and not (len(values) > 20 and len(values) > len(labels) / 10):
        return ""
    return (
        f"the target looks numeric ({len(values)} distinct values in {len(labels)} examples), not like "
        "classes: use task=regression to predict it as a number"
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
        labels = np.asarray(labels, dtype=np.int64)
        # Checked once here, so that the metrics need not check every batch (a host sync on a GPU).
        outside = sorted(set(labels[(labels < 0) | (labels >= num_classes)].tolist()))
        if outside:
            raise ValueError(
                f"the {name} split has class labels {outside[:5]} outside 0..{num_classes - 1}: the data "
                f"module's contract names {num_classes} classes; give labels 0..{num_classes - 1}"
            )
        counts = np.bincount(labels, minlength=num_classes)
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
