"""Optuna search runs real trials through train.py and records each as a run."""

import json

from conftest import run_script


def test_optuna_search_runs_trials_with_sampled_values(tmp_path):
    run_script(
        "train.py",
        "hparams_search=mlp_optuna",
        "hydra.sweeper.n_trials=2",
        "debug=limit",
        f"paths.log_dir={tmp_path}",
    )
    runs = [json.loads(path.read_text()) for path in sorted(tmp_path.glob("debug/multiruns/*/*/run.json"))]
    assert [run["status"] for run in runs] == ["completed", "completed"]
    learning_rates = [
        next(o for o in run["overrides"] if o.startswith("model.optimizer.lr=")) for run in runs
    ]
    assert len(set(learning_rates)) == 2, "each trial should sample its own learning rate"
    (results,) = tmp_path.glob("debug/multiruns/*/optimization_results.yaml")
    assert "best_value" in results.read_text()
