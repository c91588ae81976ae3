"""Optuna search runs real trials through train.py, records each, and keeps its study in SQLite."""

import json
import os
import signal
import subprocess
import sys
import time

import optuna
from conftest import ROOT, run_script


def search(tmp_path, trials: int):
    return run_script(
        "train.py",
        "hparams_search=mlp_optuna",
        f"hydra.sweeper.n_trials={trials}",
        "debug=limit",
        f"paths.log_dir={tmp_path}",
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
