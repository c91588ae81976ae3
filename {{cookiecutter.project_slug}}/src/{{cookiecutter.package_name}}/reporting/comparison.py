"""A group against the baseline: the test its design calls for, intervals that do not assume
normality, the probability of improvement, and Holm's correction over a report's comparisons.

- Test: paired t on the per-seed differences when the design is paired (design.py), else Welch's t.
  `p_value` stays Welch's p in every row, as report.csv has always had it; `p_test` is the p of
  the test named in `test`, and `p_holm` that p after Holm–Bonferroni over the metric's rows.
- `diff_ci95_*`: the t interval of the difference from that test; `diff_boot_*`: a BCa bootstrap
  interval of it (scipy.stats.bootstrap; pairs resampled together when paired), from 9,999
  resamples, fewer for very large groups (`resamples_for`).
- `p_better`: the probability that a run of the group beats a run of the baseline (ties count
  half; "beats" follows the metric's direction), with a bootstrap interval (Agarwal et al., 2021).
"""

import functools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from .design import design

CONFIDENCE = 0.95
ALPHA = 0.05
RESAMPLES = 9999
# An interval's cost grows with resamples × runs; its Monte Carlo error does not shrink with the
# runs, only with the resamples: about 0.7 % of the interval's width at 9,999, 1.5 % at 1,999.
# Above RESAMPLED_RUNS // RESAMPLES runs a side (200), fewer resamples keep a report of a few
# thousand seeds to seconds, never below Efron & Tibshirani's 1,000–2,000 for a BCa interval.
FEWEST_RESAMPLES = 1999
RESAMPLED_RUNS = 2_000_000
# The bootstrap's resamples are drawn from this seed: the same runs give the same report.
BOOTSTRAP_SEED = 0
BOOTSTRAP_BATCH = 1000
COMPARISON_COLUMNS = [
    "test",
    "design",
    "p_paired",
    "p_test",
    "p_holm",
    "significant_holm",
    "diff_ci95_low",
    "diff_ci95_high",
    "diff_boot_low",
    "diff_boot_high",
    "p_better",
    "p_better_low",
    "p_better_high",
]
NOT_COMPARED = (
    {"diff": math.nan, "p_value": math.nan, "hedges_g": math.nan}
    | {column: math.nan for column in COMPARISON_COLUMNS}
    | {"test": "", "design": "", "significant_holm": False}
)


def sample_std(values: np.ndarray) -> float:
    """The sample std (ddof=1); NaN with fewer than 2 values."""
    if len(values) < 2:
        return math.nan
    std = float(np.std(values, ddof=1))
    # Values equal but for rounding (0.1 + 0.2 and 0.3) give a std of ~1e-17, which is no spread at all.
    return 0.0 if std <= 1e-12 * float(np.max(np.abs(values))) else std


def compare(group: pd.Series, baseline: pd.Series, direction: str) -> dict:
    """`group` against `baseline`, both indexed by replicate; Holm's `p_holm` is filled by `holm`."""
    values, base = group.to_numpy(dtype=float), baseline.to_numpy(dtype=float)
    diff = float(np.mean(values) - np.mean(base)) if len(values) and len(base) else math.nan
    row = {**NOT_COMPARED, "diff": diff}
    if len(values) < 2 or len(base) < 2:
        return row
    chosen = design(group, baseline)
    row["design"] = chosen.why
    pooled = pooled_std(values, base)
    # Both groups constant: scipy returns NaN, or a p of 0 when the means differ; neither is evidence.
    if pooled == 0:
        return row
    welch = quietly(stats.ttest_ind, values, base, equal_var=False)
    row.update(p_value=float(welch.pvalue), hedges_g=hedges_g(diff, pooled, len(values) + len(base)))
    if chosen.paired:
        aligned = group.reindex(baseline.index).to_numpy(dtype=float)
        differences = aligned - base
        if sample_std(differences) == 0:  # the same gain on every seed: t is infinite, p meaningless
            row.update(test="paired t", p_better=probability_of_improvement(values, base, direction))
            return row
        paired = quietly(stats.ttest_rel, aligned, base)
        row.update(test="paired t", p_paired=float(paired.pvalue), p_test=float(paired.pvalue))
        chosen_test, samples = paired, (aligned, base)
    else:
        row.update(test="Welch t", p_test=float(welch.pvalue))
        chosen_test, samples = welch, (values, base)
    low, high = chosen_test.confidence_interval(CONFIDENCE)
    row.update(diff_ci95_low=float(low), diff_ci95_high=float(high))
    row["diff_boot_low"], row["diff_boot_high"] = bootstrap_interval(samples, mean_difference, chosen.paired)
    codes, levels = ranked(*samples)
    statistic = functools.partial(share_beaten, levels=levels, direction=direction)
    row["p_better"] = float(statistic(*codes))
    row["p_better_low"], row["p_better_high"] = bootstrap_interval(codes, statistic, chosen.paired)
    return row


def pooled_std(values: np.ndarray, base: np.ndarray) -> float:
    """The two samples' common std (each at least 2 values), as Hedges' g and the power estimate use it."""
    std1, std2 = sample_std(values), sample_std(base)
    n1, n2 = len(values), len(base)
    return math.sqrt(((n1 - 1) * std1**2 + (n2 - 1) * std2**2) / (n1 + n2 - 2))


def hedges_g(diff: float, pooled_std: float, n: int) -> float:
    # J = 1 - 3 / (4 n - 9): the standard approximation of Hedges' exact (gamma function) correction.
    return diff / pooled_std * (1 - 3 / (4 * n - 9))


def quietly(test, *args, **kwargs):
    with warnings.catch_warnings():
        # Nearly identical values make scipy warn about precision; the p-value is still returned.
        warnings.simplefilter("ignore", RuntimeWarning)
        return test(*args, **kwargs)


def mean_difference(group: np.ndarray, baseline: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(group, axis=axis) - np.mean(baseline, axis=axis)


def probability_of_improvement(group: np.ndarray, baseline: np.ndarray, direction: str) -> float:
    """P(a run of the group beats a run of the baseline) + half the chance of a tie, over all pairs
    of runs: the Mann–Whitney U statistic over n·m. "Beats" is "is lower" for a lower-is-better metric."""
    (ours, theirs), levels = ranked(group, baseline)
    return float(share_beaten(ours, theirs, levels=levels, direction=direction))


def ranked(*samples: np.ndarray) -> tuple[tuple[np.ndarray, ...], int]:
    """Each value as the index of its level among all the samples' distinct values, and how many
    levels there are: what `share_beaten` counts with, the same order and ties as the values."""
    levels = np.unique(np.concatenate(samples))
    return tuple(np.searchsorted(levels, sample) for sample in samples), len(levels)


def share_beaten(ours: np.ndarray, theirs: np.ndarray, levels: int, direction: str, axis: int = -1):
    """`probability_of_improvement` of samples given as level indices (`ranked`), along `axis`, for
    the thousands of bootstrap resamples at once: counted per level, not over the n·m pairs, which
    for 2,000 seeds a group would be 4 million per resample."""
    ours, theirs = np.moveaxis(ours, axis, -1), np.moveaxis(theirs, axis, -1)
    if direction == "lower":
        ours, theirs = levels - 1 - ours, levels - 1 - theirs
    lead, n, m = ours.shape[:-1], ours.shape[-1], theirs.shape[-1]
    ours, theirs = ours.reshape(-1, n), theirs.reshape(-1, m)
    offsets = levels * np.arange(len(ours))[:, None]

    def counts(codes: np.ndarray) -> np.ndarray:
        """Per resample, how many of its values sit at each level."""
        return np.bincount((codes + offsets).ravel(), minlength=len(ours) * levels).reshape(-1, levels)

    at = counts(theirs)
    # A value of ours beats the baseline's values strictly below its level and ties with those at it
    # (half a win each): twice its worth stays an integer. einsum sums the products without storing them.
    twice_worth = 2 * np.cumsum(at, axis=1) - at
    return (np.einsum("ij,ij->i", counts(ours), twice_worth) / (2 * n * m)).reshape(lead)


def resamples_for(runs: int) -> int:
    """How many bootstrap resamples for a comparison whose larger side has `runs` runs."""
    return max(FEWEST_RESAMPLES, min(RESAMPLES, RESAMPLED_RUNS // runs))


def bootstrap_interval(samples: tuple[np.ndarray, ...], statistic, paired: bool) -> tuple[float, float]:
    """A BCa interval, or a percentile one where BCa is undefined (few, tied values); NaN when the
    resamples do not vary at all."""
    resamples = resamples_for(max(len(sample) for sample in samples))
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            # Degenerate resamples (all equal) are expected with 3 seeds; the NaN says it.
            warnings.simplefilter("ignore")
            result = stats.bootstrap(
                samples,
                statistic,
                n_resamples=resamples,
                paired=paired,
                vectorized=True,
                confidence_level=CONFIDENCE,
                method=method,
                # Resamples a batch at a time: memory stays bounded for thousands of seeds.
                batch=BOOTSTRAP_BATCH,
                rng=np.random.default_rng(BOOTSTRAP_SEED),
            )
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    return math.nan, math.nan


def holm(p_values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Holm–Bonferroni over the comparisons of one metric: adjusted p and whether each is below ALPHA;
    rows without a p stay NaN and not significant."""
    tested = p_values.dropna()
    adjusted = pd.Series(math.nan, index=p_values.index)
    significant = pd.Series(False, index=p_values.index)
    if len(tested):
        reject, corrected, _, _ = multipletests(tested.to_numpy(), alpha=ALPHA, method="holm")
        adjusted[tested.index], significant[tested.index] = corrected, reject
    return adjusted, significant
