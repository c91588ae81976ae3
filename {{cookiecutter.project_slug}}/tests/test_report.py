"""report.py on synthetic runs: statistics checked independently, failures counted, files usable."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from conftest import run_script
from scipy import stats

import report
from {{ cookiecutter.package_name }}.reporting.comparison import (
    FEWEST_RESAMPLES,
    RESAMPLES,
    compare,
    resamples_for,
)
from {{ cookiecutter.package_name }}.reporting.runs import group_label, load_runs
from {{ cookiecutter.package_name }}.reporting.statistics import direction, epoch_curves

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [0.90, 0.92, 0.94]
OTHER = [0.95, 0.96, 0.97]
# Two-sided 95 % critical values of Student's t for 1 and 2 degrees of freedom, from a table.
T_975_DF1 = 12.706204736174707
T_975_DF2 = 4.302652729911275
REQUIRED_COLUMNS = [
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
]
REQUIRED_COLUMNS += ["hedges_g"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_run(directory: Path, overrides: list[str], metrics=None, status="completed", **extra) -> Path:
    """A run directory as train.py leaves it: run.json, and history.csv when `history` is given."""
    directory.mkdir(parents=True)
    history = extra.pop("history", None)
    record = {"status": status, "task_name": "train", "overrides": overrides, "output_dir": str(directory)}
    record |= {"metrics": metrics or {}, **extra}
    (directory / "run.json").write_text(json.dumps(record))
    if history is not None:
        (directory / "history.csv").write_text(history)
    return directory


def write_sweep(root: Path, groups: dict[str, list[float]]) -> Path:
    """A multirun directory: a job per group and seed; `test/acc` from `groups`, `test/loss` = 1 - acc."""
    job = 0
    for group, values in groups.items():
        for seed, value in enumerate(values, start=1):
            overrides = [*group.split(), f"seed={seed}"]
            write_run(
                root / f"{job}_{','.join(overrides)}", overrides, {"test/acc": value, "test/loss": 1 - value}
            )
            job += 1
    (root / "multirun.yaml").write_text("hydra:\n  mode: MULTIRUN\n")
    return root


def run_report(capsys, *args) -> tuple[int, str, str]:
    code = report.main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_table(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "report.csv").set_index(["metric", "group"], drop=False)


@pytest.fixture
def sweep(tmp_path) -> Path:
    return write_sweep(
        tmp_path / "multiruns" / "2026-01-01_12-00-00", {"model=linear": BASELINE, "model=mlp": OTHER}
    )


def test_statistics_agree_with_independent_computation(sweep, capsys):
    code, out, _ = run_report(capsys, sweep, "--baseline", "model=linear", "--metric", "test/acc")
    assert code == 0
    table = read_table(sweep)
    base, other = table.loc[("test/acc", "model=linear")], table.loc[("test/acc", "model=mlp")]

    def mean_std(values):
        mean = sum(values) / len(values)
        return mean, math.sqrt(sum((x - mean) ** 2 for x in values) / (len(values) - 1))

    (m1, s1), (m2, s2) = mean_std(OTHER), mean_std(BASELINE)
    assert (other.n, other.failed, base.n) == (3, 0, 3)
    assert other["mean"] == pytest.approx(m1) and other["std"] == pytest.approx(s1)
    assert base["mean"] == pytest.approx(m2) and base["std"] == pytest.approx(s2)
    assert stats.t.ppf(0.975, 2) == pytest.approx(T_975_DF2)
    half_width = T_975_DF2 * s1 / math.sqrt(3)
    assert (other.ci95_low, other.ci95_high) == pytest.approx((m1 - half_width, m1 + half_width))

    # Welch: the standard error and the Welch–Satterthwaite degrees of freedom by hand.
    v1, v2 = s1**2 / 3, s2**2 / 3
    t = (m1 - m2) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / 2 + v2**2 / 2)
    assert other["diff"] == pytest.approx(m1 - m2)
    assert other.p_value == pytest.approx(2 * stats.t.sf(abs(t), df))
    pooled = math.sqrt((2 * s1**2 + 2 * s2**2) / 4)
    assert other.hedges_g == pytest.approx((m1 - m2) / pooled * (1 - 3 / (4 * 6 - 9)))
    assert base[["diff", "p_value", "hedges_g"]].isna().all()

    markdown = (sweep / "report.md").read_text()
    assert "## test/acc (higher is better)" in markdown
    assert (
        "| model=mlp | 3 | 0 | **0.9600 ± 0.0100** | [0.9352, 0.9848] | +0.0400 | [+0.0300, +0.0500] | "
        "paired t | 0.0202 | 0.0202 | +2.0239 | 1.0000 [1.0000, 1.0000] |" in markdown
    )
    assert "| model=mlp |" in out


def test_seeds_and_folds_pool_into_one_group(tmp_path, capsys):
    for model in ("mlp", "cnn"):
        for seed in range(3):
            overrides = [f"model={model}", f"seed={seed}", f"+data.fold={seed}", "trainer.max_epochs=5"]
            write_run(tmp_path / f"{model}_{seed}", overrides, {"test/acc": 0.9 + seed / 100})
    code, _, _ = run_report(capsys, tmp_path)
    assert code == 0
    table = read_table(tmp_path)
    # trainer.max_epochs=5 is common to all runs: named once in the header, not in every group.
    assert list(table.group) == ["model=cnn", "model=mlp"]
    assert list(table.n) == [3, 3]
    assert "`trainer.max_epochs=5`" in (tmp_path / "report.md").read_text()


def test_group_label_drops_repeats_and_paths():
    overrides = [
        "seed=1",
        "++data.fold=2",
        "+model=mlp",
        "hydra.run.dir=x",
        "paths.log_dir=y",
        "ckpt_path=last",
    ]
    assert group_label([*overrides, "trainer.max_epochs=5"]) == "model=mlp trainer.max_epochs=5"
    assert group_label(["seed=3"]) == "(defaults)"


def test_failed_and_unfinished_runs_are_counted_and_listed(sweep, capsys):
    error = "RuntimeError: CUDA out of memory\nTraceback (most recent call last): ..."
    failed = write_run(sweep / "6_model=mlp,seed=4", ["model=mlp", "seed=4"], status="failed", error=error)
    running = write_run(sweep / "7_model=linear,seed=4", ["model=linear", "seed=4"], status="running")
    (sweep / "8_broken").mkdir()
    (sweep / "8_broken" / "run.json").write_text('{"status": "compl')

    code, _, err = run_report(capsys, sweep, "--baseline", "model=linear")
    assert code == 0
    assert "8_broken" in err and "counted as a failed run" in err
    acc = read_table(sweep).loc["test/acc"]
    assert acc.loc["model=mlp", ["n", "failed"]].tolist() == [3, 1]
    assert acc.loc["model=linear", ["n", "failed"]].tolist() == [3, 1]
    assert acc.failed.sum() == 3
    markdown = (sweep / "report.md").read_text()
    assert "9 found, 6 completed, 3 failed or unfinished" in markdown
    assert f"`{failed}` (failed): RuntimeError: CUDA out of memory" in markdown
    assert "Traceback" not in markdown
    assert f"`{running}` (running)" in markdown


def test_one_run_in_a_group_is_reported_with_a_note(sweep, capsys):
    write_run(sweep / "6_model=cnn,seed=1", ["model=cnn", "seed=1"], {"test/acc": 0.98, "test/loss": 0.02})
    code, _, _ = run_report(capsys, sweep, "--baseline", "model=linear")
    assert code == 0
    cnn = read_table(sweep).loc[("test/acc", "model=cnn")]
    assert (cnn.n, cnn["mean"], cnn["diff"]) == (1, pytest.approx(0.98), pytest.approx(0.98 - 0.92))
    assert cnn[["std", "ci95_low", "ci95_high", "p_value", "hedges_g"]].isna().all()
    assert (
        "- model=cnn: 1 run; a confidence interval, p and g need at least 2"
        in (sweep / "report.md").read_text()
    )


def test_identical_values_leave_the_test_empty_and_say_why(tmp_path, capsys):
    write_sweep(tmp_path, {"model=linear": [0.9, 0.9, 0.9], "model=mlp": [0.95, 0.95, 0.95]})
    code, _, _ = run_report(capsys, tmp_path, "--baseline", "model=linear", "--metric", "test/acc")
    assert code == 0
    mlp = read_table(tmp_path).loc[("test/acc", "model=mlp")]
    assert mlp["std"] == 0 and mlp[["ci95_low", "p_value", "hedges_g"]].isna().all()
    markdown = (tmp_path / "report.md").read_text()
    assert "model=mlp: all 3 values are identical (std 0)" in markdown
    assert "p and g are undefined" in markdown


@pytest.mark.parametrize(
    ("groups", "baseline", "message"),
    [
        (
            ["model=linear", "model=mlp"],
            "model=linea",
            "matches no group; groups are: model=linear, model=mlp",
        ),
        (
            ["model=mlp lr=1", "model=mlp lr=2"],
            "model=mlp",
            "matches 2 groups: lr=1, lr=2",
        ),
    ],
)
def test_baseline_must_match_one_group(tmp_path, capsys, groups, baseline, message):
    write_sweep(tmp_path / "sweep", dict.fromkeys(groups, BASELINE))
    code, out, err = run_report(capsys, tmp_path / "sweep", "--baseline", baseline, "--out", tmp_path / "out")
    assert code == 2
    assert err == f"report.py: --baseline '{baseline}' {message}\n"
    assert not (tmp_path / "out").exists() and not (tmp_path / "sweep" / "report.md").exists()


@pytest.mark.parametrize(("baseline", "chosen"), [("model=mlp", "model=mlp"), ("lr=2", "lr=2 model=mlp")])
def test_baseline_by_exact_match_or_unique_subset(tmp_path, capsys, baseline, chosen):
    write_sweep(tmp_path, dict.fromkeys(["model=mlp", "model=mlp lr=2"], BASELINE))
    assert run_report(capsys, tmp_path, "--baseline", baseline)[0] == 0
    assert read_table(tmp_path).set_index("group").baseline[chosen].all()


def test_no_runs_is_an_error_and_writes_nothing(tmp_path, capsys):
    missing = tmp_path / "nothing_here"
    code, _, err = run_report(capsys, missing)
    assert code == 2
    hint = "(give a run or sweep directory, e.g. logs/train/multiruns/<date>)"
    assert err == f"report.py: no run.json under {missing} {hint}\n"
    (tmp_path / "empty").mkdir()
    assert run_report(capsys, tmp_path / "empty", "--out", tmp_path / "out")[0] == 2
    assert not any((tmp_path / "empty").iterdir()) and not (tmp_path / "out").exists()


def test_unknown_metric_names_the_available_ones(sweep, capsys):
    code, _, err = run_report(capsys, sweep, "--metric", "test/f1")
    assert code == 2
    assert err == "report.py: no run recorded the metric 'test/f1'; metrics found: test/acc, test/loss\n"


def test_default_metrics(tmp_path, capsys):
    write_run(tmp_path / "a", ["model=mlp"], {"test/acc": 0.9, "test/loss": 0.3, "train/loss": 0.1})
    write_run(tmp_path / "b", ["model=cnn"], {"val/acc_best": 0.9, "lr-AdamW": 0.001})
    assert run_report(capsys, tmp_path / "a")[0] == 0
    assert list(read_table(tmp_path / "a").metric.unique()) == ["test/acc", "test/loss"]
    assert run_report(capsys, tmp_path / "b")[0] == 0
    assert list(read_table(tmp_path / "b").metric.unique()) == ["lr-AdamW", "val/acc_best"]


@pytest.mark.parametrize(
    ("metric", "better"),
    [
        ("test/acc", "higher"),
        ("val/f1", "higher"),
        ("test/loss", "lower"),
        ("val/rmse", "lower"),
        ("lr-AdamW", ""),
    ],
)
def test_direction(metric, better):
    assert direction(metric) == better


def test_table_and_image_files(tmp_path, capsys):
    write_sweep(tmp_path, {"model=linear": BASELINE, "model=mlp_wide": OTHER})
    assert run_report(capsys, tmp_path, "--baseline", "model=linear")[0] == 0
    assert list(pd.read_csv(tmp_path / "report.csv").columns[: len(REQUIRED_COLUMNS)]) == REQUIRED_COLUMNS
    latex = (tmp_path / "report.tex").read_text()
    assert latex.count(r"\toprule") == 2 and r"\midrule" in latex and r"\bottomrule" in latex
    assert r"model=mlp\_wide & 3 & 0 & $\mathbf{0.9600 \pm 0.0100}$" in latex
    assert r"$0.9200 \pm 0.0200$" in latex and r"\documentclass" not in latex
    for name in ("metric_test-acc.png", "metric_test-loss.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)
        image = matplotlib.image.imread(tmp_path / name)
        assert image.ndim == 3 and min(image.shape[:2]) > 100 and image.std() > 0


def test_learning_curves(tmp_path, capsys):
    histories = [
        "epoch,val/acc,train/loss\n0,0.5,1.0\n1,0.7,\n",
        "epoch,val/acc,train/loss\n0,0.6,0.9\n1,0.8,0.5\n",
    ]
    for seed, history in enumerate(histories):
        write_run(tmp_path / f"run_{seed}", [f"seed={seed}"], {"test/acc": 0.9}, history=history)
    write_run(tmp_path / "no_history", ["seed=9"], {"test/acc": 0.9})
    curves = epoch_curves(load_runs([tmp_path]).history).set_index(["metric", "epoch"])
    first = curves.loc[("val/acc", 0)]
    # Epoch 0: values 0.5 and 0.6, so std = sqrt(2 * 0.05**2 / 1), sem = std / sqrt(2) = 0.05, df = 1.
    half_width = T_975_DF1 * 0.05
    assert (first.group, first.n, first["mean"]) == ("(defaults)", 2, pytest.approx(0.55))
    assert (first.ci95_low, first.ci95_high) == pytest.approx((0.55 - half_width, 0.55 + half_width))
    assert curves.loc[("train/loss", 1), "n"] == 1 and math.isnan(curves.loc[("train/loss", 1), "ci95_low"])

    assert run_report(capsys, tmp_path)[0] == 0
    assert (tmp_path / "curves_val-acc.png").read_bytes().startswith(PNG_MAGIC)
    assert not (tmp_path / "curves_train-loss.png").exists()


def test_cli_end_to_end(sweep):
    out = sweep.parent / "report"
    result = subprocess.run(
        [sys.executable, "report.py", sweep, "--baseline", "model=linear", "--out", out],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "| model=mlp | 3 | 0 |" in result.stdout and str(out / "report.md") in result.stdout
    assert {path.name for path in out.iterdir()} == {
        "report.md",
        "report.csv",
        "report.tex",
        "report.html",
        "metric_test-acc.png",
        "metric_test-loss.png",
    }


def test_help_imports_no_pandas():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "report.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "--baseline" in result.stdout
    assert "pandas" not in result.stderr and "matplotlib" not in result.stderr


def test_runs_of_different_tasks_are_kept_apart(tmp_path, capsys):
    write_run(tmp_path / "trained", [], {"test/acc": 0.9})
    write_run(tmp_path / "evaluated", ["ckpt_path=x.ckpt"], {"test/acc": 0.9}, task_name="eval")
    code, _, _ = run_report(capsys, tmp_path)
    assert code == 0
    assert sorted(read_table(tmp_path)["group"].unique()) == ["task=eval", "task=train"]


def test_pooled_folds_are_flagged_as_correlated(tmp_path, capsys):
    for fold in range(3):
        write_run(
            tmp_path / f"fold{fold}",
            ["data.num_folds=3", f"data.fold={fold}"],
            {"test/acc": 0.9 + fold / 100},
        )
    code, _, _ = run_report(capsys, tmp_path)
    assert code == 0 and "scores are correlated" in (tmp_path / "report.md").read_text()
    assert list(read_table(tmp_path)["n"]) == [3]


def test_a_run_named_twice_or_through_a_link_counts_once(tmp_path, capsys):
    sweep = write_sweep(tmp_path / "sweep", {"model=mlp": [0.8, 0.9, 0.7]})
    (tmp_path / "link").symlink_to(sweep)
    one_run = next(sweep.glob("0_*"))
    # A file inside a run's own folder is not another run (the walk does not descend into runs).
    write_run(one_run / "manifest" / "copy", ["model=mlp", "seed=9"], {"test/acc": 0.1})
    code, _, _ = run_report(capsys, sweep, one_run, tmp_path / "link", "--out", tmp_path / "out")
    assert code == 0
    row = read_table(tmp_path / "out").loc[("test/acc", "model=mlp")]
    assert (row["n"], row["repeats_dropped"]) == (3, 0)
    assert row["mean"] == pytest.approx(0.8)


def test_a_seed_run_twice_counts_once_by_its_latest_completed_run(tmp_path, capsys):
    def run(name, seed, value, finished_at, status="completed"):
        metrics = {"test/acc": value} if status == "completed" else {}
        write_run(tmp_path / name, ["model=mlp"], metrics, status=status, seed=seed, finished_at=finished_at)

    run("first", 1, 0.50, "2026-01-01T10:00:00+00:00")
    run("again", 1, 0.90, "2026-01-01T11:00:00+00:00")
    run("crashed", 2, None, "2026-01-01T12:00:00+00:00", status="failed")
    run("finished", 2, 0.80, "2026-01-01T09:00:00+00:00")
    run("other", 3, 0.70, "2026-01-01T10:00:00+00:00")
    code, _, _ = run_report(capsys, tmp_path)
    assert code == 0
    row = read_table(tmp_path).loc[("test/acc", "model=mlp")]
    # Seed 1's later run, seed 2's completed run (not its later failed attempt), seed 3.
    assert (row["n"], row["failed"], row["repeats_dropped"]) == (3, 0, 2)
    assert row["mean"] == pytest.approx((0.90 + 0.80 + 0.70) / 3)
    report_md = (tmp_path / "report.md").read_text()
    assert (
        "- Runs: 5 found, 3 completed, 0 failed or unfinished, 2 not counted: they repeat a seed" in report_md
    )
    assert (
        f"- `{tmp_path / 'first'}`: seed 1 again (completed): {tmp_path / 'again'} completed later "
        "and is the one counted"
    ) in report_md
    assert (
        f"- `{tmp_path / 'crashed'}`: seed 2 again (failed): {tmp_path / 'finished'} completed it"
        in report_md
    )


def test_a_seed_that_never_completed_counts_as_one_failure(tmp_path, capsys):
    write_run(tmp_path / "a", ["seed=4"], status="failed", finished_at="2026-01-01T10:00:00+00:00")
    write_run(tmp_path / "b", ["seed=4"], status="failed", finished_at="2026-01-01T11:00:00+00:00")
    write_run(tmp_path / "c", ["seed=5"], {"test/acc": 0.9})
    assert run_report(capsys, tmp_path)[0] == 0
    row = read_table(tmp_path).loc[("test/acc", "(defaults)")]
    assert (row["n"], row["failed"], row["repeats_dropped"]) == (1, 1, 1)
    assert (
        f"seed 4 again (failed): {tmp_path / 'b'} is a later attempt" in (tmp_path / "report.md").read_text()
    )


def test_folds_of_one_seed_and_runs_without_a_seed_are_all_counted(tmp_path, capsys):
    for fold in range(2):
        write_run(tmp_path / f"fold{fold}", [f"data.fold={fold}"], {"test/acc": 0.9}, seed=1)
    # Written before run.json recorded seeds: nothing says they repeat each other.
    write_run(tmp_path / "old1", ["data.fold=2"], {"test/acc": 0.8})
    write_run(tmp_path / "old2", ["data.fold=2"], {"test/acc": 0.8})
    assert run_report(capsys, tmp_path)[0] == 0
    assert list(read_table(tmp_path)["n"]) == [4]


def test_a_resumed_run_and_a_fresh_run_of_one_seed_count_once(tmp_path, capsys):
    """The issue's sequence on real runs: 2 epochs resumed to 3, then a fresh 3-epoch run, seed 42."""
    common = ["debug=limit", "logger=csv", "model/scheduler=plateau", f"paths.log_dir={tmp_path}"]
    resumed, fresh = tmp_path / "runs" / "resumed", tmp_path / "runs" / "fresh"
    run_script("train.py", *common, f"hydra.run.dir={resumed}", "trainer.max_epochs=2")
    run_script("train.py", *common, f"hydra.run.dir={resumed}", "trainer.max_epochs=3", "ckpt_path=last")
    run_script("train.py", *common, f"hydra.run.dir={fresh}", "trainer.max_epochs=3")
    code, out, _ = run_report(capsys, tmp_path / "runs")
    assert code == 0
    assert list(read_table(tmp_path / "runs")["n"].unique()) == [1]
    report_md = (tmp_path / "runs" / "report.md").read_text()
    assert f"- `{resumed}`: seed 42 again (completed): {fresh} completed later" in report_md
    # Counted the other way round, the resumed run is marked as such.
    (fresh / "run.json").unlink()
    assert run_report(capsys, tmp_path / "runs")[0] == 0
    assert f"- `{resumed}`: completed, trained in 2 segments" in (tmp_path / "runs" / "report.md").read_text()
    assert "1 of its runs resumed" in (tmp_path / "runs" / "report.md").read_text()


def test_latest_is_the_sweep_started_last(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(report, "LOG_DIR", tmp_path / "logs")
    code, _, err = run_report(capsys, "latest")
    assert code == 2 and err.startswith(
        f"report.py: latest: no sweep under {tmp_path / 'logs'}/<task>/multiruns/"
    )
    older = write_sweep(tmp_path / "logs" / "train" / "multiruns" / "b", {"model=linear": BASELINE})
    newer = write_sweep(tmp_path / "logs" / "eval" / "multiruns" / "a", {"model=mlp": OTHER})
    os.utime(older / "multirun.yaml", (1_000_000, 1_000_000))
    code, _, _ = run_report(capsys, "latest")
    assert code == 0 and (newer / "report.md").is_file() and not (older / "report.md").exists()


# Four seeds of a baseline and three groups: mlp clearly better, cnn a little, wide no better.
ABLATION = {
    "model=linear": [0.900, 0.912, 0.905, 0.921],
    "model=mlp": [0.931, 0.940, 0.929, 0.951],
    "model=cnn": [0.911, 0.915, 0.917, 0.926],
    "model=wide": [0.895, 0.925, 0.899, 0.915],
}


def holm_by_hand(p_values: list[float]) -> list[float]:
    """Holm–Bonferroni as its definition reads: the i-th smallest p times (k - i), made monotone."""
    k, order = len(p_values), sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * k, 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def test_paired_tests_and_holm_agree_with_an_independent_computation(tmp_path, capsys):
    write_sweep(tmp_path, ABLATION)
    assert run_report(capsys, tmp_path, "--baseline", "model=linear", "--metric", "test/acc")[0] == 0
    table = read_table(tmp_path).loc["test/acc"]
    groups = ["model=cnn", "model=mlp", "model=wide"]
    raw = [stats.ttest_rel(ABLATION[group], ABLATION["model=linear"]).pvalue for group in groups]
    for group, p_raw, p_holm in zip(groups, raw, holm_by_hand(raw), strict=True):
        row = table.loc[group]
        assert (row.test, row.design) == ("paired t", "paired on seeds 1–4")
        assert row.p_paired == pytest.approx(p_raw) and row.p_test == pytest.approx(p_raw)
        assert row.p_holm == pytest.approx(p_holm) and row.significant_holm == (p_holm < 0.05)
        welch = stats.ttest_ind(ABLATION[group], ABLATION["model=linear"], equal_var=False).pvalue
        assert row.p_value == pytest.approx(welch)  # the column's meaning is kept: Welch's p
    markdown = (tmp_path / "report.md").read_text()
    for group, p_holm in zip(groups, holm_by_hand(raw), strict=True):
        said = f"- {group}: paired t (paired on seeds 1–4): significant after Holm's correction over 3"
        assert (said in markdown) == (p_holm < 0.05)
    # The example is built so that Holm changes a conclusion: cnn passes 0.05 only uncorrected.
    assert raw[0] < 0.05 < holm_by_hand(raw)[0]
    assert (
        "- model=cnn: paired t (paired on seeds 1–4): p < 0.05 uncorrected, not significant after" in markdown
    )


def test_partly_shared_seeds_fall_back_to_welch_and_say_why(tmp_path, capsys):
    for seed, value in zip((1, 2, 3), BASELINE, strict=True):
        write_run(tmp_path / f"base{seed}", ["model=linear", f"seed={seed}"], {"test/acc": value})
    for seed, value in zip((2, 3, 4), OTHER, strict=True):
        write_run(tmp_path / f"mlp{seed}", ["model=mlp", f"seed={seed}"], {"test/acc": value})
    assert run_report(capsys, tmp_path, "--baseline", "model=linear", "--metric", "test/acc")[0] == 0
    row = read_table(tmp_path).loc[("test/acc", "model=mlp")]
    assert (
        row.test == "Welch t"
        and row.design == "Welch: seed 4 only in this group, seed 1 only in the baseline"
    )
    assert math.isnan(row.p_paired) and row.p_test == pytest.approx(row.p_value)


def test_bootstrap_interval_and_probability_of_improvement(tmp_path, capsys):
    write_sweep(tmp_path, {"model=linear": ABLATION["model=linear"], "model=wide": ABLATION["model=wide"]})
    assert run_report(capsys, tmp_path, "--baseline", "model=linear")[0] == 0
    table = read_table(tmp_path)
    acc, loss = table.loc[("test/acc", "model=wide")], table.loc[("test/loss", "model=wide")]
    assert acc.diff_boot_low < acc["diff"] < acc.diff_boot_high
    # Paired resampling: the interval of the mean difference lies within the per-seed differences' range.
    differences = [a - b for a, b in zip(ABLATION["model=wide"], ABLATION["model=linear"], strict=True)]
    assert min(differences) <= acc.diff_boot_low and acc.diff_boot_high <= max(differences)
    # P(a wide run beats a linear run) over the 16 pairs, counted by hand; loss = 1 - acc is the mirror.
    wins = sum(w > b for w in ABLATION["model=wide"] for b in ABLATION["model=linear"])
    assert acc.p_better == pytest.approx(wins / 16) and loss.p_better == pytest.approx(wins / 16)
    assert acc.p_better_low <= acc.p_better <= acc.p_better_high


def test_thousands_of_seeds_get_fewer_resamples_and_the_same_interval():
    """Above 200 seeds a side the bootstrap draws fewer resamples (down to 1,999): the interval
    stays within a few percent of its width of the one 9,999 resamples give."""
    assert resamples_for(3) == resamples_for(200) == RESAMPLES == 9999
    assert RESAMPLES > resamples_for(500) > resamples_for(1000) >= resamples_for(5000) == FEWEST_RESAMPLES
    rng = np.random.default_rng(1)
    seeds = [f"seed={seed}" for seed in range(1500)]
    base = pd.Series(rng.normal(0.90, 0.01, len(seeds)), index=seeds)
    group = base + rng.normal(0.001, 0.01, len(seeds))
    row = compare(group, base, "higher")
    reference = stats.bootstrap(
        (group.to_numpy(), base.to_numpy()),
        lambda ours, theirs, axis: ours.mean(axis=axis) - theirs.mean(axis=axis),
        paired=True,
        n_resamples=9999,
        method="BCa",
        rng=np.random.default_rng(2),
    ).confidence_interval
    width = reference.high - reference.low
    assert row["diff_boot_low"] == pytest.approx(reference.low, abs=0.05 * width)
    assert row["diff_boot_high"] == pytest.approx(reference.high, abs=0.05 * width)


def power_of_paired_t(n: int, effect_size: float) -> float:
    """The two-sided paired t-test's power at α = 0.05, from the noncentral t distribution."""
    critical = stats.t.ppf(0.975, n - 1)
    noncentrality = effect_size * math.sqrt(n)
    # Far in its lower tail scipy's noncentral t gives NaN for what is 0 to double precision.
    lower = stats.nct.cdf(-critical, n - 1, noncentrality)
    return stats.nct.sf(critical, n - 1, noncentrality) + (0.0 if math.isnan(lower) else lower)


@pytest.mark.parametrize(
    ("group", "min_effect"), [("model=cnn", None), ("model=cnn", 0.005), ("model=mlp", None)]
)
def test_seeds_needed_for_80_percent_power(tmp_path, capsys, group, min_effect):
    write_sweep(tmp_path, {"model=linear": ABLATION["model=linear"], group: ABLATION[group]})
    extra = [] if min_effect is None else ["--min-effect", str(min_effect)]
    assert run_report(capsys, tmp_path, "--baseline", "model=linear", "--metric", "test/acc", *extra)[0] == 0
    row = read_table(tmp_path).loc[("test/acc", group)]
    differences = [a - b for a, b in zip(ABLATION[group], ABLATION["model=linear"], strict=True)]
    mean, std = sum(differences) / 4, stats.tstd(differences)
    effect_size = (min_effect if min_effect is not None else mean) / std
    needed = int(row.seeds_needed)
    # The smallest number of seeds (at least 2) whose paired t-test has 80 % power.
    assert power_of_paired_t(needed, effect_size) >= 0.8
    assert needed == 2 or power_of_paired_t(needed - 1, effect_size) < 0.8
    assert row.underpowered == (needed > 4)
    markdown = (tmp_path / "report.md").read_text()
    assert f"- {group}: paired t (paired on seeds 1–4): " in markdown
    assert (f"n = 4; about {needed} seeds needed for 80% power" in markdown) == (needed > 4)


def test_almost_stochastic_order_on_request(tmp_path, capsys):
    groups = ["model=linear", "model=mlp", "model=wide"]
    write_sweep(tmp_path, {group: ABLATION[group] for group in groups})
    code, _, err = run_report(capsys, tmp_path, "--aso")
    assert code == 2 and err == (
        'report.py: --aso compares each group with the baseline: give --baseline, e.g. "model=linear"\n'
    )
    assert run_report(capsys, tmp_path, "--baseline", "model=linear", "--metric", "test/acc", "--aso")[0] == 0
    table = read_table(tmp_path).loc["test/acc"]
    # Every mlp run beats every linear run: mlp dominates (ε_min near 0); wide does not (near 0.5 or above).
    assert table.loc["model=mlp", "aso_eps_min"] < 0.2 < table.loc["model=wide", "aso_eps_min"]
    assert math.isnan(table.loc["model=linear", "aso_eps_min"])
