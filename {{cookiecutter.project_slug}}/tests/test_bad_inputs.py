"""Bad input: a non-zero exit, one line saying what is wrong and what would be right, the
traceback only with HYDRA_FULL_ERROR=1, no run marked completed, and nothing else touched.

Bad template answers are the template's own tests (its tests/test_hooks.py).
"""

import json

import pytest
import torch
from conftest import run_script

# (script, arguments, what the error line must say). Each runs in a fresh run directory.
BAD_INPUTS = [
    (
        "train.py",
        ["model=transformer"],
        "Could not find 'model/transformer'; available options in 'model': cnn",
    ),
    ("train.py", ["experiment=nope"], "Could not find 'experiment/nope'; available options in 'experiment':"),
    ("train.py", ["logger=slack"], "Could not find 'logger/slack'; available options in 'logger': csv"),
    ("train.py", ["trainer.max_epocs=3"], "Key 'max_epocs' is not in struct"),
    (
        "train.py",
        ["trainer.max_epochs=abc"],
        "trainer.max_epochs='abc': expected a whole number >= 1 (-1: no limit)",
    ),
    ("train.py", ["data.batch_size=0"], "data.batch_size=0: expected a whole number >= 1"),
    ("train.py", ["data.batch_size=-32"], "data.batch_size=-32: expected a whole number >= 1"),
    ("train.py", ["data.val_fraction=1.5"], "data.val_fraction=1.5: expected a fraction between 0 and 1"),
    ("train.py", ["model.optimizer.lr=-0.1"], "model.optimizer.lr=-0.1: expected a learning rate > 0"),
    ("train.py", ["seed=abc"], "seed='abc': expected a whole number >= 0, or null"),
    (
        "train.py",
        ["trainer.accumulate_grad_batches=0"],
        "trainer.accumulate_grad_batches=0: expected a whole",
    ),
    ("train.py", ["trainer.gradient_clip_val=abc"], "trainer.gradient_clip_val='abc': expected a number > 0"),
    ("train.py", ["trainer.precision=17"], "trainer: Precision 17 is invalid. Allowed precision values:"),
    (
        "train.py",
        ["+trainer.epochs=3"],
        "trainer: TypeError: Trainer.__init__() got an unexpected keyword argument 'epochs'",
    ),
    (
        "train.py",
        ["callbacks.last_checkpoint.min_interval_s=-1"],
        "callbacks.last_checkpoint: min_interval_s=-1: give seconds >= 0",
    ),
    (
        "train.py",
        ["trainer=ddp_sim", "trainer.devices=512"],
        "trainer.devices=512 CPU processes, but this machine has",
    ),
    (
        "train.py",
        ["trainer=ddp_sim", "trainer.num_nodes=2"],
        "trainer.num_nodes=2 needs one process per node",
    ),
    (
        "train.py",
        ["data.num_folds=5", "data.fold=7"],
        "data.fold=7 with data.num_folds=5: need num_folds >= 2",
    ),
    (
        "train.py",
        # A mirror without the file (the run directory), and a data directory inside the run.
        [
            "data=mnist",
            "data.data_dir=${paths.output_dir}/data",
            "data.mirrors=['file://${paths.output_dir}/']",
        ],
        "could not download train-images-idx3-ubyte.gz: file://",
    ),
    ("train.py", ["ckpt_path=last"], "ckpt_path=last: no checkpoints/last.ckpt in"),
    ("train.py", ["ckpt_path=/nowhere/last.ckpt"], "ckpt_path=/nowhere/last.ckpt: no such file"),
    ("train.py", ["train=false"], "train=false tests a checkpoint: give ckpt_path="),
    (
        "train.py",
        ["callbacks.early_stopping.monitor=val/accuracy"],
        "Early stopping conditioned on metric `val/accuracy`",
    ),
    (
        "train.py",
        ["data=csv", "data.path=no/such/table.csv"],
        "data.path=no/such/table.csv: no such file ",
    ),
    (
        "train.py",
        ["data=csv", "data.target=nope"],
        "data.target: no column 'nope' in ",
    ),
    (
        "train.py",
        ["data=csv", "data.path=README.md"],
        "data.path=README.md: cannot read '.md' files; give a .csv",
    ),
    (
        "train.py",
        ["task=regression"],
        "RegressorModule learns regression, but DigitsDataModule holds classification targets: use "
        "task=classification",
    ),
    (
        "train.py",
        ["data=csv", "data.target=alcohol", "task=regression", "model=majority"],
        "MajorityClassModule learns classification, but TableDataModule holds regression targets: use a "
        "model with a network (model=mlp)",
    ),
    ("eval.py", [], "ckpt_path is required: pass ckpt_path=<run dir>/checkpoints/last.ckpt"),
    ("eval.py", ["ckpt_path=/nowhere/best.ckpt"], "ckpt_path=/nowhere/best.ckpt: no such file"),
    ("eval.py", ["ckpt_path=README.md"], "ckpt_path=README.md: not a checkpoint"),
    (
        "eval.py",
        ["ckpt_path=configs"],
        "ckpt_path=configs: a directory with neither the best checkpoint its run.json records nor "
        "checkpoints/last.ckpt; give a run directory",
    ),
    (
        "train.py",
        ["ckpt_path=configs"],
        "ckpt_path=configs: a directory with no checkpoints/last.ckpt; give a",
    ),
    # Not a path that exists, so not quoted for Hydra (cli/pasted_paths.py): the line says how to.
    (
        "eval.py",
        ["ckpt_path=/nowhere/model=linear,seed=1/last.ckpt"],
        "cannot parse the override ckpt_path=/nowhere/model=linear,seed=1/last.ckpt: quote the value: "
        "\"ckpt_path='/nowhere/model=linear,seed=1/last.ckpt'\"",
    ),
]
if not torch.cuda.is_available():
    # After debug=limit, which trains on the CPU: the command line has the last word.
    BAD_INPUTS.append(
        (
            "train.py",
            ["trainer.accelerator=gpu"],
            "trainer.devices=1 with trainer.accelerator=gpu, but this machine",
        )
    )


def assert_one_clear_line(result, expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and expected in last, result.stderr[-2000:]
    assert last.endswith("(HYDRA_FULL_ERROR=1 shows the traceback)")


@pytest.mark.parametrize(
    ("script", "arguments", "expected"), BAD_INPUTS, ids=[" ".join([s, *a]) for s, a, _ in BAD_INPUTS]
)
def test_bad_input_fails_with_one_clear_line(tmp_path, script, arguments, expected):
    run_dir = tmp_path / "run"
    result = run_script(
        script,
        "debug=limit",
        *arguments,
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={tmp_path}",
        check=False,
    )
    assert_one_clear_line(result, expected)
    for record in tmp_path.rglob("run.json"):
        assert json.loads(record.read_text())["status"] != "completed"


def test_a_missing_primary_config_fails_with_one_clear_line():
    # Alone: Hydra's argparse takes --config-name only before or after all the overrides.
    result = run_script("train.py", "--config-name=nope", check=False)
    assert_one_clear_line(result, "Could not find 'nope'")


def test_an_unwritable_output_directory_fails_with_one_clear_line():
    result = run_script("train.py", "debug=fdr", "hydra.run.dir=/proc/not-a-place-for-runs", check=False)
    assert_one_clear_line(result, "the run directory could not be created: choose a writable paths.log_dir")


def test_the_full_traceback_is_there_when_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    result = run_script(
        "train.py", "debug=fdr", "data.batch_size=0", f"hydra.run.dir={tmp_path}", check=False
    )
    assert result.returncode != 0 and "Traceback (most recent call last)" in result.stderr
    assert "ConfigValueError: data.batch_size=0" in result.stderr


def test_a_failed_run_leaves_the_other_runs_as_they_were(tmp_path):
    run_script("train.py", "debug=fdr", f"paths.log_dir={tmp_path}")
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    failed = run_script("train.py", "debug=fdr", "seed=abc", f"paths.log_dir={tmp_path}", check=False)
    assert failed.returncode != 0
    assert {path: path.read_bytes() for path in before} == before
    statuses = sorted(json.loads(path.read_text())["status"] for path in tmp_path.rglob("run.json"))
    assert statuses == ["completed", "failed"]


def test_report_on_a_path_without_runs_fails_with_one_line(tmp_path):
    result = run_script("report.py", str(tmp_path / "no-such-sweep"), check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"report.py: no run.json under {tmp_path / 'no-such-sweep'} (give a run or sweep directory, "
        "e.g. logs/train/multiruns/<date>)"
    ]
