"""Per-group statistics of each metric (n, mean, std, 95 % CI) and each group against the baseline.

CI: Student t. Against the baseline (comparison.py): difference of means, the test the design
calls for (paired or Welch), Holm's correction, bootstrap intervals, Hedges' g, the probability
of improvement, and (power.py) how many seeds the comparison would need.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from .comparison import ALPHA, COMPARISON_COLUMNS, NOT_COMPARED, compare, holm, sample_std
from .design import design
from .power import POWER, seeds_needed
from .runs import COMPLETED, PRUNED, UNREADABLE_LABEL, Runs
from .stochastic_order import aso_eps_min

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
# After every column report.csv had before: a reader of the old columns finds them unchanged.
EXTRA_COLUMNS += [*COMPARISON_COLUMNS, "seeds_needed", "underpowered", "aso_eps_min"]
CURVE_COLUMNS = ["metric", "group", "epoch", "n", "mean", "ci95_low", "ci95_high"]
LOWER_IS_BETTER = ("loss", "err", "mse", "mae", "rmse")
HIGHER_IS_BETTER = ("acc", "f1", "auroc", "auc", "precision", "recall", "r2", "iou", "dice")
CONFIDENCE = 0.95


def direction(metric: str) -> str:
    """Which way is better: "lower", "higher", or "" when the name does not say."""
    name = metric.lower()
    if any(word in name for word in LOWER_IS_BETTER):
        return "lower"
    if any(word in name for word in HIGHER_IS_BETTER):
        return "higher"
    return ""


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
    if comparing and not math.isnan(row["p_test"]):
        said.append(significance(row))
    if comparing and row.get("underpowered"):
        said.append(seeds_advice(row))
    if row["without_value"]:
        said.append(f"{row['without_value']} completed run(s) without a finite {metric}, not counted in n")
    if row["resumed"]:
        said.append(f"{row['resumed']} of its runs resumed from a checkpoint (listed under Resumed runs)")
    if row["repeats_dropped"]:
        said.append(f"{row['repeats_dropped']} run(s) repeating a seed not counted (listed under Repeats)")
    return "; ".join(said)


def significance(row: dict) -> str:
    """What the row's test says, after Holm's correction over the metric's comparisons."""
    family = f"Holm's correction over {row['comparisons']} comparison{'s' if row['comparisons'] > 1 else ''}"
    if row["significant_holm"]:
        return f"{row['test']} ({row['design']}): significant after {family} (p = {row['p_holm']:.3g})"
    if row["p_test"] < ALPHA:
        return f"{row['test']} ({row['design']}): p < {ALPHA} uncorrected, not significant after {family}"
    return f"{row['test']} ({row['design']}): not significant"


def seeds_advice(row: dict) -> str:
    have = min(row["n"], row["baseline_n"])
    needed = "more than 1000" if math.isinf(row["seeds_needed"]) else f"about {int(row['seeds_needed'])}"
    return f"n = {have}; {needed} seeds needed for {POWER:.0%} power"


def ordered_groups(runs: Runs, baseline: str | None) -> list[str]:
    """The baseline first, then the groups by name, and runs whose run.json could not be read last."""
    groups = sorted(set(runs.runs["group"]) - {baseline, UNREADABLE_LABEL})
    unreadable = [UNREADABLE_LABEL] if UNREADABLE_LABEL in set(runs.runs["group"]) else []
    return ([baseline] if baseline else []) + groups + unreadable


def summarize(
    runs: Runs,
    metrics: list[str],
    baseline: str | None = None,
    min_effect: float | None = None,
    aso: bool = False,
) -> pd.DataFrame:
    """One row per (metric, group): the COLUMNS, then the EXTRA_COLUMNS. `min_effect`: the
    difference (in the metric's units) the seeds-needed estimate looks for; default the observed
    one. `aso`: Almost Stochastic Order's ε_min too (stochastic_order.py; needs deepsig)."""
    completed = (runs.runs["status"] == COMPLETED).groupby(runs.runs["group"]).sum()
    pruned = (runs.runs["status"] == PRUNED).groupby(runs.runs["group"]).sum()
    failed = runs.runs.groupby("group").size() - completed - pruned
    resumed = (runs.runs["segments"] > 1).groupby(runs.runs["group"]).sum()
    repeats = runs.dropped.groupby("group").size()
    rows = []
    for metric in metrics:
        values = runs.metrics[(runs.metrics["metric"] == metric) & np.isfinite(runs.metrics["value"])]
        samples = {
            group: rows_of.set_index("replicate")["value"] for group, rows_of in values.groupby("group")
        }
        empty = pd.Series(dtype=float)
        base = samples.get(baseline, empty)
        metric_rows = []
        for group in ordered_groups(runs, baseline):
            sample = samples.get(group, empty)
            comparing = baseline is not None and group != baseline
            row = {"metric": metric, "group": group, "failed": failed[group], **describe(sample.to_numpy())}
            row.update(direction=direction(metric), baseline=group == baseline, baseline_n=len(base))
            row.update(compare(sample, base, row["direction"]) if comparing else NOT_COMPARED)
            row.update(power_of(sample, base, min_effect) if comparing else {"seeds_needed": math.nan})
            row["without_value"] = completed[group] - row["n"]
            row.update(resumed=int(resumed[group]), repeats_dropped=int(repeats.get(group, 0)))
            metric_rows.append(row)
        rows += with_aso(with_holm(metric_rows), samples, base) if aso else with_holm(metric_rows)
    for row in rows:
        row["note"] = notes(row, row["metric"], row["baseline"], baseline is not None and not row["baseline"])
    return pd.DataFrame(rows, columns=COLUMNS + EXTRA_COLUMNS)


def with_aso(rows: list[dict], samples: dict[str, pd.Series], base: pd.Series) -> list[dict]:
    compared = [row for row in rows if not row["baseline"] and row["n"] >= 2 and len(base) >= 2]
    for row in compared:
        row["aso_eps_min"] = aso_eps_min(samples[row["group"]], base, row["direction"], len(compared))
    return rows


def power_of(sample: pd.Series, base: pd.Series, min_effect: float | None) -> dict:
    """Seeds needed for 80 % power, and whether the comparison has fewer."""
    if len(sample) < 2 or len(base) < 2:
        return {"seeds_needed": math.nan, "underpowered": False}
    paired = design(sample, base).paired
    needed = seeds_needed(sample, base, paired, min_effect)
    have = min(len(sample), len(base))
    return {"seeds_needed": needed, "underpowered": bool(needed > have)}


def with_holm(rows: list[dict]) -> list[dict]:
    """Holm–Bonferroni over the metric's comparisons with the baseline (one family per metric)."""
    adjusted, significant = holm(pd.Series([row["p_test"] for row in rows], dtype=float))
    tested = int(adjusted.notna().sum())
    for row, p_holm, reject in zip(rows, adjusted, significant, strict=True):
        row.update(p_holm=p_holm, significant_holm=bool(reject), comparisons=tested)
    return rows


def epoch_curves(history: pd.DataFrame) -> pd.DataFrame:
    """Per (metric, group, epoch): n runs, their mean and its 95 % t-interval (NaN where n < 2)."""
    rows = []
    for (metric, group, epoch), values in history.groupby(["metric", "group", "epoch"]):
        sample = values["value"].to_numpy(dtype=float)
        low, high = t_interval(sample)
        rows.append([metric, group, epoch, len(sample), float(np.mean(sample)), low, high])
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)
