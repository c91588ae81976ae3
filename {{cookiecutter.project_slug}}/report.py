"""Turn runs (a sweep, several sweeps, single runs) into a result table with honest statistics.

    python report.py logs/train/multiruns/<date>                          # every run.json under it
    python report.py logs/train/multiruns/<date> --baseline model=linear  # compare every group with it
    python report.py sweep_a sweep_b --metric test/acc --out reports/     # several sweeps in one report
    python report.py latest                                               # the sweep started last

Runs with the same overrides apart from `seed` and `data.fold` form a group; each group gets n, the
failed runs, mean ± std and a 95 % CI. With --baseline, each group is compared with it by the test its
design calls for (paired t on the same seeds, else Welch), Holm-corrected over the comparisons, with a
bootstrap CI of the difference, Hedges' g, P(better) and the seeds 80 % power would need.
A seed (and fold) run twice in one group counts once: its latest completed run; the report lists the
others, and the runs that were resumed.
Writes report.md, report.csv, report.tex, PNG plots and report.html (all of it in one file, plots
embedded, for a browser with no network) to --out (default: the first PATH).
"""

import argparse
import sys
from pathlib import Path

LOG_DIR = Path(__file__).resolve().parent / "logs"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="report.py",
        description="Group runs by their overrides (seeds and folds pooled) and report statistics per group.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="run or sweep directories; `latest`: the newest sweep",
    )
    parser.add_argument(
        "--metric",
        action="append",
        help="metric to report, repeatable (default: test/acc or test/r2, mae, mse, and test/loss)",
    )
    parser.add_argument("--baseline", help='overrides of the group to compare with, e.g. "model=linear"')
    parser.add_argument(
        "--min-effect",
        type=float,
        metavar="DIFF",
        help="the difference worth detecting, in the metric's units (e.g. 0.01 for one accuracy point), "
        "for the seeds-needed estimate (default: the observed difference)",
    )
    parser.add_argument(
        "--aso",
        action="store_true",
        help="also Almost Stochastic Order (needs deepsig: pip install -e '.[aso]'; seconds per comparison)",
    )
    parser.add_argument("--out", type=Path, help="directory for the report (default: the first PATH)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Imported here so that --help answers at once: these load pandas, scipy and matplotlib.
    from {{ cookiecutter.package_name }}.reporting import html_page, plots, statistics, tables
    from {{ cookiecutter.package_name }}.reporting.runs import (
        ReportError,
        expand_latest,
        load_runs,
        match_baseline,
        select_metrics,
    )
    from {{ cookiecutter.package_name }}.reporting.stochastic_order import check_aso

    try:
        args.paths = expand_latest(args.paths, LOG_DIR)
        runs = load_runs(args.paths)
        for warning in runs.warnings:
            print(f"report.py: warning: {warning}", file=sys.stderr)
        metrics = select_metrics(runs, args.metric)
        baseline = match_baseline(args.baseline, runs) if args.baseline is not None else None
        if args.aso:
            check_aso(baseline)
    except ReportError as error:
        print(f"report.py: {error}", file=sys.stderr)
        return 2

    summary = statistics.summarize(runs, metrics, baseline, args.min_effect, args.aso)
    curves = statistics.epoch_curves(runs.history)
    out = args.out or (args.paths[0] if args.paths[0].is_dir() else args.paths[0].parent)
    written = tables.write_tables(out, summary, runs, baseline)
    figures = plots.write_plots(out, summary, runs.metrics, curves)
    written += [*figures, html_page.write_html(out, summary, runs, baseline, figures)]

    print(tables.markdown_tables(summary))
    print("\nWritten:", *written, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
