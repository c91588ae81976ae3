"""Optuna search runs real trials through train.py, records each, and keeps its study in SQLite."""

import json

import optuna
from conftest import run_script


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
    runs = [json.loads(path.read_text()) for path in sorted(study_dir.glob("*/run.json"))]
    assert [run["status"] for run in runs] == ["completed", "completed"]
    learning_rates = {
        next(o for o in run["overrides"] if o.startswith("model.optimizer.lr=")) for run in runs
    }
    assert len(learning_rates) == 2, "each trial should sample its own learning rate"
    assert "best_value" in (study_dir / "optimization_results.yaml").read_text()


def test_the_same_command_continues_the_stored_study(tmp_path):
    search(tmp_path, trials=2)
    search(tmp_path, trials=1)
    storage = f"sqlite:///{tmp_path / 'debug' / 'optuna' / 'mlp_digits' / 'optuna.db'}"
    study = optuna.load_study(study_name="mlp_digits", storage=storage)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 3
