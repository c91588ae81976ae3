"""PNG plots: each metric per group (mean, 95 % CI, every run); validation curves per group over epochs."""

import math
import os
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

# Set before pyplot is imported: reports are made on machines without a display.
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .statistics import direction  # noqa: E402
from .tables import heading  # noqa: E402


def file_stem(metric: str) -> str:
    """A metric name usable in a file name: `test/acc` -> `test-acc`."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", metric).strip("-")


def save(figure, path: Path) -> Path:
    temporary = path.with_name(f".{path.name}.tmp")
    figure.savefig(temporary, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    os.replace(temporary, path)
    return path


def plot_metric(metric: str, rows: pd.DataFrame, values: pd.DataFrame):
    """Groups top to bottom: the mean with its 95 % CI as a bar, every run as a dot."""
    figure, axes = plt.subplots(figsize=(7, 1.2 + 0.5 * len(rows)))
    for position, row in enumerate(rows.itertuples()):
        runs = values.loc[values["group"] == row.group, "value"].to_numpy()
        # A small vertical spread so that runs with equal values stay visible.
        jitter = np.linspace(-0.15, 0.15, len(runs)) if len(runs) > 1 else np.zeros(len(runs))
        axes.scatter(runs, position + jitter, s=14, color="tab:gray", alpha=0.7, zorder=2)
        if row.n:
            defined = not math.isnan(row.ci95_low)
            error = [[row.mean - row.ci95_low], [row.ci95_high - row.mean]] if defined else None
            axes.errorbar(row.mean, position, xerr=error, fmt="o", color="tab:blue", capsize=4, zorder=3)
    axes.set_yticks(
        range(len(rows)), [f"{group}\n(n={n})" for group, n in zip(rows["group"], rows["n"], strict=True)]
    )
    axes.invert_yaxis()
    axes.set_xlabel(heading(metric, rows["direction"].iloc[0]))
    axes.set_title(f"{metric}: mean and 95 % CI per group, dots are runs")
    axes.grid(axis="x", alpha=0.3)
    return figure


def plot_curves(metric: str, curves: pd.DataFrame):
    """Per group: the mean over runs at each epoch, and its 95 % CI as a band where 2 or more runs have it."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for group, rows in curves.groupby("group"):
        rows = rows.sort_values("epoch")
        (line,) = axes.plot(rows["epoch"], rows["mean"], label=f"{group} (n={rows['n'].max()})")
        axes.fill_between(
            rows["epoch"], rows["ci95_low"], rows["ci95_high"], color=line.get_color(), alpha=0.2
        )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel(heading(metric, direction(metric)))
    axes.set_title(f"{metric}: mean over runs per epoch, 95 % CI band")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def is_validation(metric: str) -> bool:
    return metric.startswith("val")


def write_plots(out: Path, summary: pd.DataFrame, values: pd.DataFrame, curves: pd.DataFrame) -> list[Path]:
    """metric_<name>.png for each metric in `summary`, curves_<name>.png for each validation metric."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for metric, rows in summary.groupby("metric", sort=False):
        if rows["n"].any():
            metric_values = values[(values["metric"] == metric) & np.isfinite(values["value"])]
            written.append(
                save(plot_metric(metric, rows, metric_values), out / f"metric_{file_stem(metric)}.png")
            )
    for metric, rows in curves.groupby("metric"):
        if is_validation(metric):
            written.append(save(plot_curves(metric, rows), out / f"curves_{file_stem(metric)}.png"))
    return written
