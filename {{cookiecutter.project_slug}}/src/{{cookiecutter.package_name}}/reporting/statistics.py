"""Per-group statistics of each metric (n, mean, std, 95 % CI) and each group against the baseline.

CI: Student t. Against the baseline: difference of means, Welch's t-test, Hedges' g.
"""

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .runs import COMPLETED, UNREADABLE_LABEL, Runs

COLUMNS = [
    "metric",
    "group",
    "n",
    "failed",
    "mean",
    "std",
    "ci95_low",
    "ci95_high",
    "diff",
    "p_value",
    "hedges_g",
]
EXTRA_COLUMNS = ["direction", "baseline", "without_value", "note", "resumed", "repeats_dropped"]
CURVE_COLUMNS = ["metric", "group", "epoch", "n", "mean", "ci95_low", "ci95_high"]
LOWER_IS_BETTER = ("loss", "err", "mse", "mae", "rmse")
HIGHER_IS_BETTER = ("acc", "f1", "auroc", "auc", "precision", "recall", "r2", "iou", "dice")
CONFIDENCE = 0.95
NOT_COMPARED = {"diff": math.nan, "p_value": math.nan, "hedges_g": math.nan}


def direction(metric: str) -> str:
    """Which way is better: "lower", "higher", or "" when the name does not say."""
    name = metric.lower()
    if any(word in name for word in LOWER_IS_BETTER):
        return "lower"
    if any(word in name for word in HIGHER_IS_BETTER):
        return "higher"
    return ""


def sample_std(values: np.ndarray) -> float:
    """The sample std (ddof=1); NaN with fewer than 2 values."""
    if len(values) < 2:
        return math.nan
    std = float(np.std(values, ddof=1))
    # Values equal but for rounding (0.1 + 0.2 and 0.3) give a std of ~1e-17, which is no spread at all.
    return 0.0 if std <= 1e-12 * float(np.max(np.abs(values))) else std


def t_interval(values: np.ndarray) -> tuple[float, float]:
    """The 95 % Student t confidence interval of the mean; NaN with fewer than 2 values or no spread."""
    n, std = len(values), sample_std(values)
    if not std > 0:
        return math.nan, math.nan
    low, high = stats.t.interval(CONFIDENCE, n - 1, loc=float(np.mean(values)), scale=std / math.sqrt(n))
    return float(low), float(high)


def describe(values: np.ndarray) -> dict[str, float]:
    n = len(values)
    low, high = t_interval(values)
    return {
        "n": n,
        "mean": float(np.mean(values)) if n else math.nan,
        "std": sample_std(values),
        "ci95_low": low,
        "ci95_high": high,
    }


def compare(values: np.ndarray, baseline: np.ndarray) -> dict[str, float]:
    """Difference of means, Welch's p-value and Hedges' g of `values` against `baseline`."""
    n1, n2 = len(values), len(baseline)
    diff = float(np.mean(values) - np.mean(baseline)) if n1 and n2 else math.nan
    if n1 < 2 or n2 < 2:
        return {**NOT_COMPARED, "diff": diff}
    std1, std2 = sample_std(values), sample_std(baseline)
    pooled_std = math.sqrt(((n1 - 1) * std1**2 + (n2 - 1) * std2**2) / (n1 + n2 - 2))
    # Both groups constant: scipy returns NaN, or a p of 0 when the means differ; neither is evidence.
    if pooled_std == 0:
        return {**NOT_COMPARED, "diff": diff}
    with warnings.catch_warnings():
        # Nearly identical values make scipy warn about precision; the p-value is still returned.
        warnings.simplefilter("ignore", RuntimeWarning)
        p_value = float(stats.ttest_ind(values, baseline, equal_var=False).pvalue)
    # J = 1 - 3 / (4 (n1 + n2) - 9): the standard approximation of Hedges' exact (gamma function) correction.
    correction = 1 - 3 / (4 * (n1 + n2) - 9)
    return {"diff": diff, "p_value": p_value, "hedges_g": diff / pooled_std * correction}


def notes(row: dict, metric: str, is_baseline: bool, comparing: bool) -> str:
    """Why some cells of the row are empty, in words; "" when none is."""
    n, said = row["n"], []
    needs = "a confidence interval, p and g need" if comparing else "a confidence interval needs"
    if n == 0:
        said.append(f"no completed run recorded {metric}")
    elif n == 1:
        said.append(f"1 run; {needs} at least 2")
    elif not row["std"] > 0:
        said.append(f"all {n} values are identical (std 0): no confidence interval")
    if comparing and n >= 2 and math.isnan(row["p_value"]) and row["baseline_n"] >= 2:
        said.append("this group and the baseline both have identical values (std 0): p and g are undefined")
    if is_baseline and n == 0:
        said.append("so no group can be compared with this baseline")
    elif is_baseline and n == 1:
        said.append("so p and g against this baseline are undefined for every group")
    if row["without_value"]:
        said.append(f"{row['without_value']} completed run(s) without a finite {metric}, not counted in n")
    if row["resumed"]:
        said.append(f"{row['resumed']} of its runs resumed from a checkpoint (listed under Resumed runs)")
    if row["repeats_dropped"]:
        said.append(f"{row['repeats_dropped']} run(s) repeating a seed not counted (listed under Repeats)")
    return "; ".join(said)


def ordered_groups(runs: Runs, baseline: str | None) -> list[str]:
    """The baseline first, then the groups by name, and runs whose run.json could not be read last."""
    groups = sorted(set(runs.runs["group"]) - {baseline, UNREADABLE_LABEL})
    unreadable = [UNREADABLE_LABEL] if UNREADABLE_LABEL in set(runs.runs["group"]) else []
    return ([baseline] if baseline else []) + groups + unreadable


def summarize(runs: Runs, metrics: list[str], baseline: str | None = None) -> pd.DataFrame:
    """One row per (metric, group): the COLUMNS, then direction, baseline, without_value and note."""
    completed = (runs.runs["status"] == COMPLETED).groupby(runs.runs["group"]).sum()
    failed = runs.runs.groupby("group").size() - completed
    resumed = (runs.runs["segments"] > 1).groupby(runs.runs["group"]).sum()
    repeats = runs.dropped.groupby("group").size()
    rows = []
    for metric in metrics:
        values = runs.metrics[(runs.metrics["metric"] == metric) & np.isfinite(runs.metrics["value"])]
        samples = {group: group_values["value"].to_numpy() for group, group_values in values.groupby("group")}
        empty = np.array([])
        base = samples.get(baseline, empty)
        for group in ordered_groups(runs, baseline):
            sample = samples.get(group, empty)
            comparing = baseline is not None and group != baseline
            row = {"metric": metric, "group": group, "failed": failed[group], **describe(sample)}
            row.update(compare(sample, base) if comparing else NOT_COMPARED)
            row.update(direction=direction(metric), baseline=group == baseline, baseline_n=len(base))
            row["without_value"] = completed[group] - row["n"]
            row.update(resumed=int(resumed[group]), repeats_dropped=int(repeats.get(group, 0)))
            row["note"] = notes(row, metric, group == baseline, comparing)
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS + EXTRA_COLUMNS)


def epoch_curves(history: pd.DataFrame) -> pd.DataFrame:
    """Per (metric, group, epoch): n runs, their mean and its 95 % t-interval (NaN where n < 2)."""
    rows = []
    for (metric, group, epoch), values in history.groupby(["metric", "group", "epoch"]):
        sample = values["value"].to_numpy(dtype=float)
        low, high = t_interval(sample)
        rows.append([metric, group, epoch, len(sample), float(np.mean(sample)), low, high])
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)
