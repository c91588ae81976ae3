"""W&B must never block or prompt: offline, with one notice line, when no key is configured."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT, python_path, read_run, run_script
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import open_dict, read_write

from {{ cookiecutter.package_name }}.loggers.wandb_logger import (
    has_wandb_key,
    sweep_group_and_job_name,
    wandb_logger,
    wandb_mode,
)


@pytest.fixture
def no_wandb_key(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))


def test_without_a_key_wandb_logs_offline_and_says_so(no_wandb_key, capsys):
    assert not has_wandb_key()
    assert wandb_mode(None) == "offline"
    notice = [line for line in capsys.readouterr().out.splitlines() if line.startswith("W&B:")]
    assert len(notice) == 1 and "offline" in notice[0]


def test_a_key_in_the_environment_means_online(no_wandb_key, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert has_wandb_key()
    assert wandb_mode(None) is None  # W&B's default: online


def test_an_explicit_mode_wins(no_wandb_key, monkeypatch):
    assert wandb_mode("disabled") == "disabled"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode(None) == "disabled"


def test_sweep_jobs_share_a_group_named_after_the_sweep(no_wandb_key, make_config, tmp_path):
    make_config()
    hydra_cfg = HydraConfig.get()
    with read_write(hydra_cfg), open_dict(hydra_cfg):
        hydra_cfg.mode = RunMode.MULTIRUN
        hydra_cfg.sweep.dir = str(tmp_path / "2026-01-01_12-00-00_000001")
        hydra_cfg.runtime.output_dir = str(tmp_path / "2026-01-01_12-00-00_000001" / "3_seed=2")
    assert sweep_group_and_job_name() == ("2026-01-01_12-00-00_000001", "3_seed=2")
    run = wandb_logger(project="test", save_dir=str(tmp_path)).experiment  # offline: no key
    try:
        assert (run.group, run.name, run.offline) == ("2026-01-01_12-00-00_000001", "3_seed=2", True)
    finally:
        run.finish()


def test_a_single_run_is_named_after_its_directory(make_config, tmp_path):
    make_config()
    assert sweep_group_and_job_name() == (None, "run")


def test_parallel_jobs_share_one_mlflow_store(tmp_path):
    """Two processes creating the same SQLite store at once: both runs must be recorded."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    script = (
        "from {{ cookiecutter.package_name }}.loggers.mlflow_logger import mlflow_logger; "
        f"mlflow_logger(tracking_uri={uri!r}, experiment_name='parallel').log_metrics(dict(m=1.0), step=0)"
    )
    jobs = [
        subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    errors = [job.communicate(timeout=300)[1] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], errors
    experiment = mlflow.MlflowClient(uri).get_experiment_by_name("parallel")
    assert len(mlflow.MlflowClient(uri).search_runs([experiment.experiment_id])) == 2


def test_a_run_whose_wandb_service_dies_of_sigterm_first_ends_as_lightnings_sigterm_exit(tmp_path):
    """A SLURM preemption signals W&B's service too: the failed log call that follows must not
    turn the job's SIGTERM exit (requeued) into a failure submitit records for the sweep."""
    # Without WANDB_SERVICE (set by an earlier test's W&B run): the run starts a service of its own.
    inherited = {name: value for name, value in os.environ.items() if name != "WANDB_SERVICE"}
    env = {**inherited, "PYTHONPATH": python_path(ROOT / "tests"), "EXTRA_TRUSTED_TARGETS": "preemption.*"}
    result = run_script(
        "train.py",
        "logger=wandb",
        "+callbacks.preempted._target_=preemption.ServicePreemptedFirst",
        f"paths.log_dir={tmp_path}",
        env=env,
        check=False,
    )
    # As Lightning's loops end a signalled run: a SystemExit without a code.
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Stopped by SIGTERM; what failed after it: ConnectionResetError" in result.stdout
    (run_dir,) = (tmp_path / "train" / "runs").iterdir()
    run = read_run(run_dir)
    assert run["status"] == "failed" and run["error"].endswith("StoppedBySigterm")
