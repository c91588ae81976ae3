"""Optuna search runs real trials through train.py, records each, and keeps its study in SQLite."""

import json
import os
import signal
import subprocess
import sys
import time

import optuna
from conftest import ROOT, run_script


def search(tmp_path, trials: int, *overrides: str):
    return run_script(
        "train.py",
        "hparams_search=mlp_optuna",
        f"hydra.sweeper.n_trials={trials}",
        "debug=limit",
        f"paths.log_dir={tmp_path}",
        *overrides,
    )


def test_optuna_search_runs_trials_with_sampled_values(tmp_path):
    search(tmp_path, trials=2)
    study_dir = tmp_path / "debug" / "optuna" / "mlp_digits"
    runs = [json.loads(path.read_text()) for path in sorted(study_dir.glob("*/*/run.json"))]
    assert [run["status"] for run in runs] == ["completed", "completed"]
    learning_rates = {
        next(o for o in run["overrides"] if o.startswith("model.optimizer.lr=")) for run in runs
    }
    assert len(learning_rates) == 2, "each trial should sample its own learning rate"
    assert "best_value" in (study_dir / "optimization_results.yaml").read_text()


def test_each_trial_trains_once_on_two_ddp_ranks_with_its_own_values(tmp_path):
    # Under Lightning's own DDP launcher each rank would re-run the search and sample its own values;
    # here a rank with other values would stop the trial (launch/same_config_on_all_ranks.py).
    # debug=limit asks for one device; the command line has the last word.
    search(tmp_path, 2, "trainer=ddp_sim", "trainer.devices=2")
    study_dir = tmp_path / "debug" / "optuna" / "mlp_digits"
    job_dirs = sorted(path.parent for path in study_dir.glob("*/*/run.json"))
    runs = [json.loads((job_dir / "run.json").read_text()) for job_dir in job_dirs]
    assert [(run["status"], run["world_size"]) for run in runs] == [("completed", 2)] * 2
    assert all((job_dir / "train_rank1.log").is_file() for job_dir in job_dirs)
    assert len(list(study_dir.glob("*/"))) == 1, "one search, one folder of trials"
    study = optuna.load_study(study_name="mlp_digits", storage=f"sqlite:///{study_dir / 'optuna.db'}")
    assert len(study.trials) == 2 and len({trial.params["model.optimizer.lr"] for trial in study.trials}) == 2


def test_the_same_command_continues_the_stored_study(tmp_path):
    search(tmp_path, trials=2)
    search(tmp_path, trials=1)
    study_dir = tmp_path / "debug" / "optuna" / "mlp_digits"
    study = optuna.load_study(study_name="mlp_digits", storage=f"sqlite:///{study_dir / 'optuna.db'}")
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 3
    # The third trial is new: its own parameters, trained in its own folder of the second command.
    assert len({tuple(sorted(trial.params.items())) for trial in study.trials}) == 3
    assert len(list(study_dir.glob("*/*/run.json"))) == 3 and len(list(study_dir.glob("*/"))) == 2


def test_a_killed_search_continues_its_study(tmp_path):
    study_dir = tmp_path / "debug" / "optuna" / "mlp_digits"
    command = [
        sys.executable,
        "train.py",
        "hparams_search=mlp_optuna",
        "hydra.sweeper.n_trials=20",
        "debug=limit",
    ]
    search_process = subprocess.Popen(
        [*command, f"paths.log_dir={tmp_path}", "extras.print_config=false"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    storage = f"sqlite:///{study_dir / 'optuna.db'}"
    deadline = time.monotonic() + 300
    # Opening the study while the search still creates its tables would race it: wait for a
    # finished job first, by then the storage exists.
    while not any('"completed"' in path.read_text() for path in study_dir.glob("*/*/run.json")) or (
        completed_trials(storage) < 1
    ):
        assert time.monotonic() < deadline and search_process.poll() is None, "no trial finished"
        time.sleep(0.5)
    os.killpg(search_process.pid, signal.SIGKILL)
    search_process.wait()

    before = completed_trials(storage)
    search(tmp_path, trials=1)
    # The trials finished before the kill are kept and one more ran; the killed one stays unfinished.
    assert completed_trials(storage) == before + 1


def completed_trials(storage: str) -> int:
    study = optuna.load_study(study_name="mlp_digits", storage=storage)
    return sum(trial.state == optuna.trial.TrialState.COMPLETE for trial in study.trials)
