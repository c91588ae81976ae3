"""The Optuna search runs real trials through train.py and any Hydra launcher, prunes, records each
trial, and keeps its study in a journal file that the same command continues."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import optuna
from conftest import ROOT, run_script
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

STUDY = "mlp_digits"


def search(tmp_path, trials: int, *overrides: str):
    return run_script(
        "train.py",
        "-m",
        "hparams_search=mlp_optuna",
        f"hydra.sweeper.n_trials={trials}",
        "debug=limit",
        f"paths.log_dir={tmp_path}",
        *overrides,
    )


def study_dir_of(tmp_path) -> Path:
    return tmp_path / "debug" / "optuna" / STUDY


def load_study(tmp_path) -> optuna.Study:
    journal = JournalFileBackend(str(study_dir_of(tmp_path) / "optuna.journal"))
    return optuna.load_study(study_name=STUDY, storage=JournalStorage(journal))


def runs_of(tmp_path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(study_dir_of(tmp_path).glob("*/*/run.json"))]


def trial_number(run: dict) -> int:
    return int(next(o for o in run["overrides"] if o.startswith("+optuna_trial=")).split("=")[1])


def states(study: optuna.Study) -> list[TrialState]:
    return [trial.state for trial in study.trials]


def test_optuna_search_runs_trials_with_sampled_values(tmp_path):
    search(tmp_path, trials=2)
    runs = runs_of(tmp_path)
    assert [run["status"] for run in runs] == ["completed", "completed"]
    learning_rates = {
        next(o for o in run["overrides"] if o.startswith("model.optimizer.lr=")) for run in runs
    }
    assert len(learning_rates) == 2, "each trial should sample its own learning rate"
    study = load_study(tmp_path)
    assert states(study) == [TrialState.COMPLETE] * 2
    # Each job trained its own trial's values and reported each epoch (debug=limit: 3) to it.
    for run in runs:
        trial = study.trials[trial_number(run)]
        assert f"model.optimizer.lr={trial.params['model.optimizer.lr']}" in run["overrides"]
        assert sorted(trial.intermediate_values) == [0, 1, 2]
        assert trial.value == run["metrics"]["val/acc_best"]
    results = (study_dir_of(tmp_path) / "optimization_results.yaml").read_text()
    assert f"best_value: {study.best_value}" in results and "complete: 2" in results


def test_each_trial_trains_once_on_two_ddp_ranks_with_its_own_values(tmp_path):
    # Under Lightning's own DDP launcher each rank would re-run the search and sample its own values;
    # here a rank with other values would stop the trial (launch/same_config_on_all_ranks.py).
    # debug=limit asks for one device; the command line has the last word.
    search(tmp_path, 2, "trainer=ddp_sim", "trainer.devices=2")
    study_dir = study_dir_of(tmp_path)
    job_dirs = sorted(path.parent for path in study_dir.glob("*/*/run.json"))
    runs = [json.loads((job_dir / "run.json").read_text()) for job_dir in job_dirs]
    assert [(run["status"], run["world_size"]) for run in runs] == [("completed", 2)] * 2
    assert all((job_dir / "train_rank1.log").is_file() for job_dir in job_dirs)
    assert len(list(study_dir.glob("2*/"))) == 1, "one search, one folder of trials"
    study = load_study(tmp_path)
    assert len(study.trials) == 2 and len({trial.params["model.optimizer.lr"] for trial in study.trials}) == 2
    # Rank 0 alone reported: one value per epoch, not one per rank.
    assert all(sorted(trial.intermediate_values) == [0, 1, 2] for trial in study.trials)


def test_the_same_command_continues_the_stored_study(tmp_path):
    search(tmp_path, trials=2)
    search(tmp_path, trials=3)
    study = load_study(tmp_path)
    assert states(study) == [TrialState.COMPLETE] * 3
    # The third trial is new: its own parameters, trained in its own folder of the second command.
    assert len({tuple(sorted(trial.params.items())) for trial in study.trials}) == 3
    assert len(runs_of(tmp_path)) == 3 and len(list(study_dir_of(tmp_path).glob("2*/"))) == 2
    # The study has its 3 trials: the same command again trains none.
    search(tmp_path, trials=3)
    assert len(load_study(tmp_path).trials) == 3 and len(runs_of(tmp_path)) == 3


def test_a_killed_search_continues_its_study_and_fails_the_killed_trial(tmp_path):
    # Trials long enough (a few seconds) for the kill to come while one trains.
    longer = "trainer.max_epochs=50"
    search_process = subprocess.Popen(
        [
            sys.executable,
            "train.py",
            "-m",
            "hparams_search=mlp_optuna",
            "hydra.sweeper.n_trials=3",
            "debug=limit",
            longer,
            f"paths.log_dir={tmp_path}",
            "extras.print_config=false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "WANDB_MODE": "offline"},
    )
    deadline = time.monotonic() + 300
    # Killed once a trial has finished and the next one's job is training.
    while not (
        [run["status"] for run in runs_of(tmp_path)][:1] == ["completed"]
        and [run["status"] for run in runs_of(tmp_path)][1:2] == ["running"]
    ):
        assert time.monotonic() < deadline and search_process.poll() is None, "no trial finished"
        time.sleep(0.2)
    os.killpg(search_process.pid, signal.SIGKILL)
    search_process.wait()
    before = load_study(tmp_path).trials  # a copy: Study.trials reads the storage each time
    finished = [trial.number for trial in before if trial.state == TrialState.COMPLETE]
    killed = [trial.number for trial in before if trial.state == TrialState.RUNNING]
    assert finished and killed, [trial.state for trial in before]

    search(tmp_path, 3, longer)  # the same command
    after = load_study(tmp_path)
    # The finished trials are kept, the killed one is failed, and only the missing trials ran.
    assert [after.trials[n].params for n in finished] == [before[n].params for n in finished]
    assert [after.trials[n].state for n in killed] == [TrialState.FAIL]
    assert states(after).count(TrialState.COMPLETE) == 3
    assert len(after.trials) == len(before) + 3 - len(finished)


def test_a_pruned_trial_stops_early_is_recorded_as_pruned_and_counted_apart(tmp_path):
    # A pruner that compares from the first finished trial and from the first epoch; then a trial
    # with a learning rate that cannot learn in one epoch is below the median at once.
    pruning = ["hydra.sweeper.pruner.n_startup_trials=1", "hydra.sweeper.pruner.n_warmup_steps=0"]
    search(tmp_path, 1, "model.optimizer.lr=0.05", *pruning)
    search(tmp_path, 2, "model.optimizer.lr=0.0000001", *pruning)
    study = load_study(tmp_path)
    assert states(study) == [TrialState.COMPLETE, TrialState.PRUNED]
    assert sorted(study.trials[1].intermediate_values) == [0], "pruned after its first epoch"
    pruned = next(run for run in runs_of(tmp_path) if trial_number(run) == 1)
    assert pruned["status"] == "pruned"
    assert not any(name.startswith("test/") for name in pruned["metrics"]), "a pruned trial is not tested"

    run_script("report.py", str(study_dir_of(tmp_path)), "--out", str(tmp_path / "report"))
    report = (tmp_path / "report" / "report.md").read_text()
    assert "2 found, 1 completed, 1 pruned, 0 failed or unfinished" in report, report
    assert "## Pruned by the search (stopped early) (1)" in report
    assert "Failed or unfinished runs" not in report
    # The tables' `failed` column counts no pruned run.
    rows = [line for line in report.splitlines() if line.startswith("| ") and "optuna_trial=1 |" in line]
    assert rows and all(row.split(" | ")[2] == "0" for row in rows), rows


def test_a_ddp_trial_is_pruned_on_both_ranks_together(tmp_path):
    # Rank 0 decides and broadcasts. A rank that went on alone would wait for the other in its next
    # step until rank 0 gave up on it, and the run would fail; a rank that tested alone, the same.
    pruning = ["hydra.sweeper.pruner.n_startup_trials=1", "hydra.sweeper.pruner.n_warmup_steps=0"]
    search(tmp_path, 1, "model.optimizer.lr=0.05", *pruning)
    search(tmp_path, 2, "model.optimizer.lr=0.0000001", "trainer=ddp_sim", "trainer.devices=2", *pruning)
    study = load_study(tmp_path)
    assert states(study) == [TrialState.COMPLETE, TrialState.PRUNED]
    assert sorted(study.trials[1].intermediate_values) == [0]
    pruned = next(run for run in runs_of(tmp_path) if trial_number(run) == 1)
    assert (pruned["status"], pruned["world_size"]) == ("pruned", 2)


def test_joblib_runs_the_trials_of_a_batch_at_the_same_time(tmp_path):
    search(tmp_path, 2, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "trainer.max_epochs=20")
    runs = runs_of(tmp_path)
    assert [run["status"] for run in runs] == ["completed", "completed"]
    started = [datetime.fromisoformat(run["started_at"]) for run in runs]
    finished = [datetime.fromisoformat(run["finished_at"]) for run in runs]
    assert max(started) < min(finished), "the second trial started only after the first finished"
    assert len(list(study_dir_of(tmp_path).glob("2*/"))) == 1
