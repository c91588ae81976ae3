"""The result tables: report.md (to read), report.csv (every number in full), report.tex (for a paper)."""

import math
import os
from pathlib import Path

import pandas as pd

from .runs import COMPLETED, PRUNED, Runs

DIRECTION_WORDS = {"higher": "higher is better", "lower": "lower is better"}
ARROWS = {"higher": " ↑", "lower": " ↓"}
METHOD = (
    "n: completed runs with the metric; failed: runs of the group that failed or did not finish "
    "(runs a search pruned are counted apart). "
    "Mean ± sample std (ddof 1); 95 % CI of the mean from Student's t. The spread is over seeds "
    "(and folds) on one fixed test split: it measures how much training varies, not how the "
    "result would change on other test data."
)
COMPARISON = (
    "diff: mean − baseline mean, with a 95 % bootstrap CI (BCa, pairs resampled together when paired; "
    "9,999 resamples, fewer above 200 runs a side, never below 1,999). "
    "test: a paired t-test on the per-seed differences when the group and the baseline have the same "
    "seeds (and folds), all present; otherwise Welch's t-test, and the notes say why. p (Holm): that "
    "test's p adjusted by Holm–Bonferroni over the comparisons of the metric with the baseline; a "
    "difference is significant when it is below 0.05. g: Hedges' g (pooled std, small-sample corrected). "
    "P(better): the chance that a run of the group beats a run of the baseline (ties count half), with "
    "a bootstrap CI. report.csv also has Welch's p for every row (p_value), the t interval of the "
    "difference and the seeds 80 % power would need (seeds_needed)."
)
FOLDS = (
    "Folds share most of their training data, so their scores are correlated: intervals and "
    "p-values over folds are optimistic (Nadeau & Bengio, 2003)."
)
LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def number(value: float, signed: bool = False) -> str:
    """4 decimals, or 4 significant digits for tiny values; "" when undefined."""
    if value is None or math.isnan(value):
        return ""
    if value != 0 and abs(value) < 1e-3:
        return format(value, "+.3e" if signed else ".3e")
    return format(value, "+.4f" if signed else ".4f")


def p_value(value: float) -> str:
    if math.isnan(value):
        return ""
    return "<0.001" if value < 0.001 else format(value, ".4f")


def heading(metric: str, direction: str) -> str:
    return f"{metric} ({DIRECTION_WORDS[direction]})" if direction else metric


def best_rows(rows: pd.DataFrame) -> pd.Series:
    """True for the group(s) with the best mean, when the metric says which way is better."""
    direction = rows["direction"].iloc[0]
    means = rows["mean"].where(rows["n"] > 0)
    if not direction or means.isna().all():
        return pd.Series(False, index=rows.index)
    return means == (means.max() if direction == "higher" else means.min())


def group_name(row) -> str:
    return f"{row.group} (baseline)" if row.baseline else row.group


def mean_and_std(row, plus_minus: str) -> str:
    """E.g. `0.9650 ± 0.0040`; the mean alone for a single run; "" for none."""
    if not row.n:
        return ""
    return number(row.mean) + (plus_minus + number(row.std) if row.n >= 2 else "")


def interval(row) -> str:
    return "" if math.isnan(row.ci95_low) else "[" + number(row.ci95_low) + ", " + number(row.ci95_high) + "]"


def comparison_cells(row) -> list[str]:
    """diff, its bootstrap CI, the test, p, Holm's p, g and P(better) [its CI]."""
    better = number(row.p_better)
    if better and not math.isnan(row.p_better_low):
        better += f" [{number(row.p_better_low)}, {number(row.p_better_high)}]"
    return [
        number(row.diff, signed=True),
        pair(row.diff_boot_low, row.diff_boot_high, signed=True),
        row.test,
        p_value(row.p_test),
        p_value(row.p_holm),
        number(row.hedges_g, signed=True),
        better,
    ]


def pair(low: float, high: float, signed: bool = False) -> str:
    return "" if math.isnan(low) else f"[{number(low, signed)}, {number(high, signed)}]"


def markdown_table(rows: pd.DataFrame, comparing: bool) -> str:
    direction = rows["direction"].iloc[0]
    header = ["group", "n", "failed", "mean ± std" + ARROWS.get(direction, ""), "95 % CI"]
    header += ["diff", "bootstrap 95 % CI", "test", "p", "p (Holm)", "g", "P(better)"] if comparing else []
    lines = [
        "| " + " | ".join(header) + " |",
        "|:--|--:|--:|--:|:-:|" + ("--:|:-:|:--|--:|--:|--:|--:|" if comparing else ""),
    ]
    for row, best in zip(rows.itertuples(), best_rows(rows), strict=True):
        mean = mean_and_std(row, " ± ")
        name = group_name(row).replace("|", "\\|")
        cells = [name, str(row.n), str(row.failed), f"**{mean}**" if best and mean else mean, interval(row)]
        if comparing:
            cells += comparison_cells(row)
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {row.group}: {row.note}" for row in rows.itertuples() if row.note]
    return "\n".join(lines + (["", "Notes:", *notes] if notes else []))


def markdown_tables(summary: pd.DataFrame) -> str:
    """One section per metric: a heading, the table, and notes on its empty cells."""
    comparing = bool(summary["baseline"].any())
    sections = [
        f"## {heading(metric, rows['direction'].iloc[0])}\n\n{markdown_table(rows, comparing)}"
        for metric, rows in summary.groupby("metric", sort=False)
    ]
    return "\n\n".join(sections) if sections else "No metric to report: no completed run recorded any."


def run_counts(runs: Runs) -> str:
    """E.g. `9 found, 6 completed, 3 failed or unfinished, 1 not counted: they repeat a seed`; with
    `, 2 pruned` after the completed ones when a search pruned some."""
    table, repeats = runs.runs, len(runs.dropped)
    completed = int((table["status"] == COMPLETED).sum())
    pruned = int((table["status"] == PRUNED).sum())
    failed = len(table) - completed - pruned
    counts = f"{len(table) + repeats} found, {completed} completed" + (f", {pruned} pruned" if pruned else "")
    counts += f", {failed} failed or unfinished"
    return counts + (f", {repeats} not counted: they repeat a seed" if repeats else "")


def method(runs: Runs, baseline: str | None) -> str:
    """What the numbers are, and what to beware of when comparing them or pooling folds."""
    return METHOD + (" " + COMPARISON if baseline else "") + (" " + FOLDS if runs.pooled_folds else "")


def markdown(summary: pd.DataFrame, runs: Runs, baseline: str | None) -> str:
    compared_with = f"`{baseline}`" if baseline else "none (`--baseline` compares every group with one)"
    shared = " ".join(f"`{override}`" for override in runs.common) or "none"
    header = [
        "# Report",
        "",
        f"- Runs: {run_counts(runs)}",
        "- Paths: " + ", ".join(f"`{path}`" for path in runs.paths),
        f"- Baseline: {compared_with}",
        "- Groups: runs with the same overrides, apart from `seed` and `data.fold`; each seed (and fold) "
        "counted once, by its latest completed run",
        f"- Common to all runs (left out of the group names): {shared}",
        "",
        method(runs, baseline),
    ]
    return "\n\n".join(["\n".join(header), markdown_tables(summary), run_lists(runs)]).rstrip() + "\n"


def run_lists(runs: Runs) -> str:
    """The runs that need a word: failed or unfinished, pruned, resumed, and not counted as repeats."""
    listed = list(runs.runs.itertuples())
    ended = (COMPLETED, PRUNED)
    failed = [f"- `{run.run_dir}` ({run.status}): {run.error}" for run in listed if run.status not in ended]
    pruned = [f"- `{run.run_dir}`" for run in listed if run.status == PRUNED]
    resumed = [f"- `{run.run_dir}`: {resumed_note(run)}" for run in listed if run.segments > 1]
    repeats = [f"- `{run.run_dir}`: {run.reason}" for run in runs.dropped.itertuples()]
    sections = [
        run_list("Failed or unfinished runs", failed),
        run_list("Pruned by the search (stopped early)", pruned),
        run_list("Resumed runs", resumed),
        run_list("Repeats, not counted", repeats),
    ]
    return "\n\n".join(section for section in sections if section)


def resumed_note(run) -> str:
    return f"{run.status}, trained in {run.segments} segments (run.json `segments`; commands in manifest/)"


def run_list(title: str, lines: list[str]) -> str:
    """A section listing runs, one line each; "" when there is none."""
    return "\n".join([f"## {title} ({len(lines)})", "", *lines]) if lines else ""


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(character, character) for character in text)


def math_mode(text: str) -> str:
    return "$" + text + "$" if text else ""


def latex_table(metric: str, rows: pd.DataFrame, comparing: bool) -> str:
    direction = rows["direction"].iloc[0]
    columns = ["Group", "$n$", "Failed", r"Mean $\pm$ std", r"95\,\% CI"]
    columns += ["Diff.", "Test", "$p$", r"$p_\mathrm{Holm}$", "$g$"] if comparing else []
    body = []
    for row, best in zip(rows.itertuples(), best_rows(rows), strict=True):
        mean = mean_and_std(row, r" \pm ")
        cells = [latex_escape(group_name(row)), str(row.n), str(row.failed)]
        cells += [math_mode(r"\mathbf{" + mean + "}" if best and mean else mean), math_mode(interval(row))]
        if comparing:
            cells += [math_mode(number(row.diff, signed=True)), latex_escape(row.test)]
            cells += [math_mode(p_value(row.p_test)), math_mode(p_value(row.p_holm))]
            cells += [math_mode(number(row.hedges_g, signed=True))]
        body.append("    " + " & ".join(cells) + r" \\")
    caption = latex_escape(heading(metric, direction))
    caption += (
        r": mean $\pm$ sample std over the $n$ completed runs of each group; 95\,\% CI from Student's $t$"
    )
    caption += (
        r"; against the baseline, $p$ of a paired $t$-test on the same seeds or else Welch's (Test), "
        r"$p_\mathrm{Holm}$ adjusted over the table's comparisons, $g$: Hedges' $g$."
        if comparing
        else "."
    )
    label = "tab:" + "".join(c if c.isalnum() else "-" for c in metric)
    return "\n".join(
        [
            r"\begin{table}[htbp]",
            r"  \centering",
            r"  \caption{" + caption + "}",
            r"  \label{" + label + "}",
            r"  \begin{tabular}{lrrcc" + ("rlrrr" if comparing else "") + "}",
            r"    \toprule",
            "    " + " & ".join(columns) + r" \\",
            r"    \midrule",
            *body,
            r"    \bottomrule",
            r"  \end{tabular}",
            r"\end{table}",
        ]
    )


def latex(summary: pd.DataFrame) -> str:
    comparing = bool(summary["baseline"].any())
    tables = [latex_table(metric, rows, comparing) for metric, rows in summary.groupby("metric", sort=False)]
    return "\n\n".join([r"% Written by report.py; needs \usepackage{booktabs}.", *tables]) + "\n"


def write_atomically(path: Path, text: str) -> Path:
    """Write beside the target, then rename: a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def write_tables(out: Path, summary: pd.DataFrame, runs: Runs, baseline: str | None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_atomically(out / "report.md", markdown(summary, runs, baseline)),
        write_atomically(out / "report.csv", summary.to_csv(index=False, na_rep="")),
        write_atomically(out / "report.tex", latex(summary)),
    ]
