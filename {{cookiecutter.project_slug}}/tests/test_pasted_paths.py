"""A path the project prints (a sweep job's directory, `model=linear,seed=1/`, or a file in it)
can be pasted back on the command line as it is: cli/pasted_paths.py quotes it for Hydra."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, read_run, run_script
from hydra.core.override_parser.overrides_parser import OverridesParser

from {{ cookiecutter.package_name }}.cli.pasted_paths import quoted_for_hydra


@pytest.fixture(scope="module")
def sweep_job(tmp_path_factory) -> Path:
    """A finished sweep job, its directory named by its overrides: `=` and `,` in its path."""
    log_dir = tmp_path_factory.mktemp("logs")
    # A schedule not made for max_epochs: the job may be resumed for longer (README: Resume).
    run_script(
        "train.py",
        "-m",
        "seed=1",
        "model=linear",
        "model/scheduler=plateau",
        "debug=limit",
        f"paths.log_dir={log_dir}",
    )
    (job,) = (path.parent for path in log_dir.glob("debug/multiruns/*/*/run.json"))
    assert job.name == "debug=limit,model-scheduler=plateau,model=linear,seed=1"
    return job


def parsed(override: str) -> object:
    """The value Hydra's own parser reads in `override`."""
    (parsed_override,) = OverridesParser.create().parse_overrides([override])
    return parsed_override.value()


def test_a_pasted_path_is_quoted_once_and_nothing_else_is_touched(sweep_job, tmp_path):
    checkpoint = str(sweep_job / "checkpoints" / "last.ckpt")
    folder = tmp_path / "it's [here]"
    folder.mkdir()
    typed = [
        "-m",
        f"ckpt_path={checkpoint}",
        f"+data.path={folder}",
        f"data.test_path='{checkpoint}'",  # quoted by hand already
        "seed=1,2",
        "ckpt_path=a.ckpt,b.ckpt",  # a sweep over two files, not a path
        f"model.net.hidden=[{','.join(['512'] * 100)}]",  # too long for a file name
        "--config-path",
        str(sweep_job),  # a flag's value, no override
    ]
    quoted = quoted_for_hydra(typed)
    assert quoted[0] == "-m" and quoted[3:] == typed[3:]
    assert quoted[1] != typed[1] and quoted[2] != typed[2]
    # Quoting twice changes nothing: what Lightning's launcher re-runs is read the same way.
    assert quoted_for_hydra(quoted) == quoted
    assert [parsed(override) for override in quoted[1:4]] == [checkpoint, str(folder), checkpoint]


def test_a_sweep_jobs_checkpoint_and_directory_resume_unquoted(sweep_job, tmp_path):
    checkpoint = sweep_job / "checkpoints" / "last.ckpt"
    for given, name in ((checkpoint, "file"), (sweep_job, "dir")):
        run_dir = tmp_path / name
        run_script(
            "train.py",
            f"ckpt_path={given}",
            "debug=limit",
            "model=linear",
            "model/scheduler=plateau",
            "trainer.max_epochs=4",
            f"hydra.run.dir={run_dir}",
        )
        run = read_run(run_dir)
        assert run["status"] == "completed" and run["segments"][0]["resumed_from"] == str(checkpoint)


def test_a_sweep_jobs_checkpoint_and_directory_evaluate_unquoted(sweep_job, tmp_path):
    best = read_run(sweep_job)["best_checkpoint"]
    last = sweep_job / "checkpoints" / "last.ckpt"
    # A directory means its best epoch's checkpoint, as its run.json records it.
    for given, evaluated, name in ((last, str(last), "file"), (sweep_job, best, "dir")):
        run_dir = tmp_path / name
        run_script("eval.py", f"ckpt_path={given}", "debug=limit", f"hydra.run.dir={run_dir}")
        record = read_run(run_dir)
        assert record["status"] == "completed" and record["checkpoint"] == evaluated


def test_a_table_in_a_sweep_jobs_directory_trains_unquoted_and_the_job_reports(sweep_job, tmp_path):
    table = sweep_job / "wine.csv"
    shutil.copy(ROOT / "examples" / "wine.csv", table)
    run_dir = tmp_path / "table"
    run_script("train.py", "data=csv", f"data.path={table}", "debug=fdr", f"hydra.run.dir={run_dir}")
    assert read_run(run_dir)["status"] == "completed"
    report = run_script("report.py", str(sweep_job), "--out", str(tmp_path / "report"))
    assert "model=linear" in (tmp_path / "report" / "report.md").read_text(), report.stdout
    assert json.loads((sweep_job / "run.json").read_text())["status"] == "completed"
