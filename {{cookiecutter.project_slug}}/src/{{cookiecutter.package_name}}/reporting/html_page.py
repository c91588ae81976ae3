"""report.html: report.md's tables, the plots and the run lists in one file that opens with no network.

The PNGs are embedded as data: URIs and the CSS is inline, so the file can be mailed or archived alone.
The result tables show every column of the summary but a few internal ones: a column added to
statistics.summarize appears here without a change.
"""

import base64
import html
import math
from pathlib import Path

import pandas as pd

from . import tables
from .plots import file_stem
from .runs import COMPLETED, PRUNED, Runs

REPORT_FILE = "report.html"
# Shown another way: the metric and its direction as the heading, the baseline in the group's name,
# the notes as a list under the table, mean and std as one cell, the CI bounds as one cell.
HIDDEN_COLUMNS = ("metric", "direction", "baseline", "note", "std", "ci95_high")
HEADERS = {
    "mean": "mean ± std",
    "ci95_low": "95 % CI",
    "p_value": "p",
    "hedges_g": "g",
    "without_value": "without a value",
    "repeats_dropped": "repeats not counted",
}
# Differences and effect sizes: a sign tells which way they go.
SIGNED_COLUMNS = ("diff", "hedges_g")
CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
"""


def is_p_value(column: str) -> bool:
    """p-value columns (p_value, p_holm, ...) read `<0.001` below 0.001, like report.md."""
    return column == "p" or column.startswith("p_") or column.endswith("_p")


def cell(column: str, value) -> str:
    """One summary value as report.md would print it; "" when undefined."""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return tables.p_value(value) if is_p_value(column) else tables.number(value, column in SIGNED_COLUMNS)
    if isinstance(value, tuple | list):
        return " ".join(map(str, value))
    return "" if value is None else str(value)


def shown_columns(summary: pd.DataFrame) -> list[str]:
    """Every summary column but the hidden ones and those undefined throughout (diff, p and g when no
    group is compared with a baseline)."""
    return [
        column
        for column in summary.columns
        if column not in HIDDEN_COLUMNS and not summary[column].isna().all()
    ]


def header(column: str) -> str:
    return HEADERS.get(column, column.replace("_", " "))


def display_cells(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns as display strings, under readable headers."""
    return pd.DataFrame(
        {header(column): [cell(column, value) for value in rows[column].tolist()] for column in columns}
    )


def result_cells(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A metric's rows as display strings, with report.md's group names, mean ± std and CI cells."""
    shown = display_cells(rows, columns)
    shown[header("group")] = [tables.group_name(row) for row in rows.itertuples()]
    if "mean" in columns:
        shown[header("mean")] = [tables.mean_and_std(row, " ± ") for row in rows.itertuples()]
    if "ci95_low" in columns:
        shown[header("ci95_low")] = [tables.interval(row) for row in rows.itertuples()]
    return shown


def html_table(cells: pd.DataFrame, uuid: str, bold: list[bool] | None = None, column: str = "") -> str:
    """pandas' HTML for a table of strings, every cell and header escaped; `bold` rows in `column`."""
    if bold is None:
        # The lists of runs: 10,000 rows of 5 columns take pandas' Styler ~4x the CPU time of to_html.
        return cells.to_html(index=False, escape=True, border=0, table_id=f"T_{uuid}")
    styler = cells.style.hide(axis="index").format(escape="html").format_index(escape="html", axis=1)
    styler = styler.set_uuid(uuid)
    if column in cells.columns:
        styler = styler.apply(
            lambda values: ["font-weight: bold" if best else "" for best in bold], subset=[column]
        )
    return styler.to_html()


def metric_section(index: int, metric: str, rows: pd.DataFrame, columns: list[str], figures) -> str:
    """A metric's heading, its table, the notes on its empty cells and its plot."""
    title = tables.heading(metric, rows["direction"].iloc[0])
    cells = result_cells(rows, columns)
    best = tables.best_rows(rows).tolist()
    parts = [f"<h2>{html.escape(title)}</h2>", html_table(cells, f"metric{index}", best, header("mean"))]
    notes = [
        f"<li>{html.escape(row.group)}: {html.escape(row.note)}</li>" for row in rows.itertuples() if row.note
    ]
    if notes:
        parts.append("<p>Notes:</p>\n<ul>\n" + "\n".join(notes) + "\n</ul>")
    figure = figures.get(f"metric_{file_stem(metric)}.png")
    if figure is not None:
        parts.append(image(figure, f"{metric}: mean and 95 % CI per group"))
    return "\n".join(parts)


def image(path: Path, alt: str) -> str:
    """The PNG inside the page as a data: URI, so that report.html needs no other file."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def curves_section(figures: dict[str, Path]) -> str:
    curves = [path for name, path in sorted(figures.items()) if name.startswith("curves_")]
    if not curves:
        return ""
    images = [
        image(path, path.stem.removeprefix("curves_") + ": mean over runs per epoch") for path in curves
    ]
    return "\n".join(["<h2>Learning curves</h2>", *images])


def overview(runs: Runs, baseline: str | None) -> str:
    """report.md's header: how many runs, from where, compared with what, and the method."""
    items = [
        ("Runs", tables.run_counts(runs)),
        ("Paths", ", ".join(str(path) for path in runs.paths)),
        ("Baseline", baseline or "none (--baseline compares every group with one)"),
        ("Common to all runs (left out of the group names)", " ".join(runs.common) or "none"),
    ]
    lines = [f"<li>{html.escape(name)}: {html.escape(text)}</li>" for name, text in items]
    return "\n".join(["<ul>", *lines, "</ul>", f"<p>{html.escape(tables.method(runs, baseline))}</p>"])


def run_section(title: str, rows: pd.DataFrame, uuid: str) -> str:
    """A list of runs as a table under a heading with their count; "" when there is none."""
    if rows.empty:
        return ""
    cells = display_cells(rows, list(rows.columns))
    return f"<h2>{html.escape(title)} ({len(rows)})</h2>\n" + html_table(cells, uuid)


def run_sections(runs: Runs) -> str:
    """Every run counted, then those that need a word: failed, pruned, resumed, and repeats not counted."""
    table = runs.runs
    sections = [
        run_section("Runs", table, "runs"),
        run_section(
            "Failed or unfinished runs",
            table.loc[~table["status"].isin([COMPLETED, PRUNED]), ["run_dir", "status", "error"]],
            "failed",
        ),
        run_section(
            "Pruned by the search (stopped early)",
            table.loc[table["status"] == PRUNED, ["run_dir"]],
            "pruned",
        ),
        run_section(
            "Resumed runs", table.loc[table["segments"] > 1, ["run_dir", "status", "segments"]], "resumed"
        ),
        run_section("Repeats, not counted", runs.dropped, "repeats"),
    ]
    return "\n".join(section for section in sections if section)


def page(summary: pd.DataFrame, runs: Runs, baseline: str | None, figures: list[Path]) -> str:
    """The whole report.html as text."""
    by_name = {path.name: path for path in figures}
    columns = shown_columns(summary)
    metrics = [
        metric_section(index, metric, rows, columns, by_name)
        for index, (metric, rows) in enumerate(summary.groupby("metric", sort=False))
    ]
    if not metrics:
        metrics = ["<p>No metric to report: no completed run recorded any.</p>"]
    title = "Report: " + ", ".join(str(path) for path in runs.paths)
    body = [overview(runs, baseline), *metrics, curves_section(by_name), run_sections(runs)]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{html.escape(title)}</h1>",
            *(part for part in body if part),
            "</body>",
            "</html>",
            "",
        ]
    )


def write_html(
    out: Path, summary: pd.DataFrame, runs: Runs, baseline: str | None, figures: list[Path]
) -> Path:
    """Write report.html to `out`, embedding the PNGs of `figures` (plots.write_plots' files)."""
    out.mkdir(parents=True, exist_ok=True)
    return tables.write_atomically(out / REPORT_FILE, page(summary, runs, baseline, figures))
