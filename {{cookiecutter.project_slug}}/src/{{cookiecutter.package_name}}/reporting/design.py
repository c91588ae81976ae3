"""Whether a group and the baseline form a paired design: the same seeds (and folds), all present.

Runs of one seed share the data split, the initial weights' draw and the batch order, so their
scores are correlated; a paired test on the per-seed differences uses that, where treating the two
groups as independent samples (Welch) throws it away. A partly overlapping design is not paired
on a subset (which runs to drop would be a choice made after seeing the data): it falls back to
Welch, and says why.
"""

import re
from dataclasses import dataclass

import pandas as pd

SEED = re.compile(r"seed=(?P<seed>\S+)(?: fold=(?P<fold>\S+))?$")


@dataclass(frozen=True)
class Design:
    paired: bool
    why: str  # e.g. "paired on seeds 1–5", "Welch: seed 4 only in this group"


def design(group: pd.Series, baseline: pd.Series) -> Design:
    """`group` and `baseline`: values indexed by replicate ("seed=3", "seed=3 fold=1", or a run
    directory when the run recorded no seed)."""
    ours, theirs = set(group.index), set(baseline.index)
    unknown = {label for label in ours | theirs if not SEED.match(label)}
    if unknown:
        return Design(False, "Welch: some runs recorded no seed, so none can be paired")
    if ours == theirs and len(ours) >= 2:
        return Design(True, f"paired on {replicates_named(ours)}")
    if not ours & theirs:
        return Design(False, "Welch: no seed in common with the baseline")
    only = [f"{replicates_named(ours - theirs)} only in this group"] if ours - theirs else []
    only += [f"{replicates_named(theirs - ours)} only in the baseline"] if theirs - ours else []
    if not only:  # the same single seed: nothing to pair on
        return Design(False, "Welch: one seed only")
    return Design(False, "Welch: " + ", ".join(only))


def replicates_named(labels: set[str]) -> str:
    """`seeds 1–3, 5`, `seed 4`, or, with folds, `6 (seed, fold) pairs`."""
    parsed = [SEED.match(label) for label in labels]
    if any(match["fold"] is not None for match in parsed):
        return f"{len(labels)} (seed, fold) pairs" if len(labels) > 1 else "1 (seed, fold) pair"
    seeds = [match["seed"] for match in parsed]
    word = "seeds" if len(seeds) > 1 else "seed"
    if all(seed.lstrip("-").isdigit() for seed in seeds):
        return f"{word} {ranges(sorted(int(seed) for seed in seeds))}"
    return f"{word} {', '.join(sorted(seeds))}"


def ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> "1–3, 5"."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(
        f"{low}–{high}" if high > low + 1 else ", ".join(map(str, range(low, high + 1)))
        for low, high in spans
    )
