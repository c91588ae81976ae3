"""Training end to end: each model, precision and logger in-process; the scripts as a user runs them."""

import json
from pathlib import Path

import pytest
import torch
from conftest import config_options, run_script

from train import train


def read_run(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


@pytest.mark.parametrize("model", config_options("model"))
def test_fast_dev_run(make_config, model):
    metrics, _ = train(make_config(f"model={model}", "debug=fdr"))
    assert {"train/loss", "test/acc"} <= metrics.keys()


@pytest.mark.parametrize(
    "overrides",
    [
        ["trainer.precision=bf16-mixed"],
        ["trainer.accumulate_grad_batches=4"],
        ["trainer.gradient_clip_val=0.5"],
    ],
    ids=lambda o: o[0],
)
def test_trainer_switches(make_config, overrides):
    metrics, _ = train(make_config("debug=limit", *overrides))
    assert 0.0 <= metrics["test/acc"] <= 1.0


LOGGER_FILES = {
    "csv": "csv/metrics.csv",
    "tensorboard": "tensorboard/events.out.tfevents.*",
    "wandb": "wandb/offline-run-*",
    "mlflow": "logs/mlflow.db",
}


@pytest.mark.parametrize("logger", sorted(LOGGER_FILES))
def test_logger_writes_its_files(make_config, tmp_path, logger):
    train(make_config(f"logger={logger}", "debug=limit"))
    assert list((tmp_path / "run").glob(LOGGER_FILES[logger])), f"logger={logger} wrote nothing"


def test_overfit_learns_its_batches(make_config):
    metrics, _ = train(
        make_config("debug=overfit", "trainer.max_epochs=30", "callbacks.rich_progress_bar=null")
    )
    assert metrics["train/acc"] >= 0.99


@pytest.mark.parametrize("debug", ["profiler", "anomaly"])
def test_debug_config_runs(make_config, debug):
    metrics, _ = train(make_config(f"debug={debug}", "callbacks.rich_progress_bar=null"))
    assert "test/acc" in metrics


def test_defaults_learn_digits(make_config):
    metrics, best = train(make_config("trainer.max_epochs=10", "callbacks.rich_progress_bar=null"))
    assert metrics["test/acc"] >= 0.93 and Path(best).is_file()


def test_train_then_eval_gives_the_same_test_accuracy(tmp_path):
    run_dir = tmp_path / "train_run"
    run_script("train.py", "debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}")
    trained = read_run(run_dir)
    assert trained["status"] == "completed" and trained["choices"]["model"] == "mlp"

    eval_dir = tmp_path / "eval_run"
    run_script(
        "eval.py", "debug=limit", f"ckpt_path={trained['best_checkpoint']}", f"hydra.run.dir={eval_dir}"
    )
    evaluated = read_run(eval_dir)
    assert evaluated["status"] == "completed"
    assert evaluated["metrics"]["test/acc"] == pytest.approx(trained["metrics"]["test/acc"])


def test_eval_without_checkpoint_fails_clearly(tmp_path):
    result = run_script("eval.py", f"hydra.run.dir={tmp_path / 'eval'}", check=False)
    assert result.returncode != 0 and "ckpt_path is required" in result.stderr
    assert read_run(tmp_path / "eval")["status"] == "failed"


def saved_epoch(run_dir: Path) -> int:
    """The epoch stored in a run's last.ckpt (0-based), whatever the logger."""
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["epoch"]


def test_resume_from_last_checkpoint_in_a_given_run_dir(tmp_path):
    run_dir = tmp_path / "run"
    common = ["debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common, "trainer.max_epochs=2")
    assert saved_epoch(run_dir) == 1
    resumed = run_script("train.py", *common, "trainer.max_epochs=4", "ckpt_path=last")
    assert f"Resuming from {run_dir / 'checkpoints' / 'last.ckpt'}" in resumed.stdout
    assert saved_epoch(run_dir) == 3 and read_run(run_dir)["status"] == "completed"


def test_resume_last_finds_the_latest_run_and_continues_in_it(tmp_path):
    common = ["debug=limit", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common, "trainer.max_epochs=1")
    (first_run,) = (tmp_path / "debug" / "runs").iterdir()
    resumed = run_script("train.py", *common, "trainer.max_epochs=2", "ckpt_path=last")
    assert f"Resuming from {first_run / 'checkpoints' / 'last.ckpt'}" in resumed.stdout
    assert list((tmp_path / "debug" / "runs").iterdir()) == [first_run]
    assert saved_epoch(first_run) == 1


def test_resume_last_without_any_run_fails_clearly(tmp_path):
    result = run_script("train.py", "debug=limit", f"paths.log_dir={tmp_path}", "ckpt_path=last", check=False)
    assert result.returncode != 0 and "ckpt_path=last: no checkpoints/last.ckpt" in result.stderr
    (run_dir,) = (tmp_path / "debug" / "runs").iterdir()
    assert read_run(run_dir)["status"] == "failed"


def test_sweep_runs_every_job_in_its_own_directory(tmp_path):
    run_script("train.py", "-m", "seed=1,2", "debug=limit", f"paths.log_dir={tmp_path}")
    runs = [read_run(path.parent) for path in sorted(tmp_path.glob("debug/multiruns/*/*/run.json"))]
    assert [(run["seed"], run["status"]) for run in runs] == [(1, "completed"), (2, "completed")]
    assert all(run["overrides"][0] == f"seed={run['seed']}" for run in runs)


def test_ddp_sim_trains_with_two_processes(tmp_path):
    run_dir = tmp_path / "ddp"
    run_script(
        "train.py",
        "trainer=ddp_sim",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=4",
        "callbacks.rich_progress_bar=null",
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={tmp_path}",
    )
    run = read_run(run_dir)
    assert run["status"] == "completed" and "test/acc" in run["metrics"]
