"""hydra/launcher=slurm on a real SLURM cluster that this module starts on localhost (slurm_cluster.py)."""

import json

import pytest
from slurm_cluster import LocalSlurmCluster, missing_binaries
from slurm_sweeps import epochs_in, job_runs, run_sweep, start_sweep, wait_for

pytestmark = pytest.mark.skipif(
    bool(missing_binaries()),
    reason=f"SLURM is not installed ({', '.join(missing_binaries())} missing): "
    "sudo apt-get install slurmctld slurmd slurm-client munge",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = LocalSlurmCluster(tmp_path_factory.mktemp("slurm")).start()
    yield cluster
    cluster.stop()


def test_a_sweep_runs_as_a_job_array(cluster, tmp_path):
    run_sweep(tmp_path, "seed=1,2", "trainer.max_epochs=2", env=cluster.env)
    runs = [run for _, run in job_runs(tmp_path)]
    assert [(run["status"], run["seed"]) for run in runs] == [("completed", 1), ("completed", 2)]
    # Two tasks of one array, each with its own SLURM job.
    assert len({run["slurm"]["array_job_id"] for run in runs}) == 1
    assert sorted(run["slurm"]["array_task_id"] for run in runs) == ["0", "1"]


def test_ddp_ranks_are_srun_tasks(cluster, tmp_path):
    run_sweep(
        tmp_path, "trainer=ddp_sim", "trainer.max_epochs=2", "+trainer.limit_train_batches=4", env=cluster.env
    )
    ((job_dir, run),) = job_runs(tmp_path)
    assert run["status"] == "completed" and run["world_size"] == 2
    # Both ranks ran the job; only rank 0 wrote the config record and the run's log.
    assert sorted(path.name for path in job_dir.glob("train*.log")) == ["train.log", "train_rank1.log"]
    assert "MEMBER: 2/2" in (job_dir / "train_rank1.log").read_text()
    assert "SLURM auto-requeueing enabled" not in (job_dir / "train.log").read_text()


def test_an_optuna_search_runs_each_batch_of_trials_as_a_job_array(cluster, tmp_path):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    run_sweep(
        tmp_path,
        "hparams_search=mlp_optuna",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.n_jobs=2",
        "debug=limit",
        env=cluster.env,
    )
    study_dir = tmp_path / "debug" / "optuna" / "mlp_digits"
    runs = [json.loads(path.read_text()) for path in sorted(study_dir.glob("*/*/run.json"))]
    assert [run["status"] for run in runs] == ["completed", "completed"]
    assert len({run["slurm"]["array_job_id"] for run in runs}) == 1, "one array for the batch of 2"
    # The SLURM jobs reported their epochs into the study's journal file, and the search told it.
    storage = JournalStorage(JournalFileBackend(str(study_dir / "optuna.journal")))
    study = optuna.load_study(study_name="mlp_digits", storage=storage)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert all(sorted(trial.intermediate_values) == [0, 1, 2] for trial in study.trials)


# How a running job gets requeued: preempted (SLURM requeues it), or the signal SLURM sends
# `signal_delay_s` before the time limit, on which submitit requeues it.
REQUEUES = {
    "preempted": ("scontrol", "requeue"),
    "time_limit_signal": ("scancel", "--signal=USR2"),
}


@pytest.mark.parametrize("how", sorted(REQUEUES))
def test_a_requeued_job_resumes_in_its_own_directory(cluster, tmp_path, how):
    epochs = 15
    sweep = start_sweep(
        cluster,
        tmp_path,
        "seed=1",
        f"trainer.max_epochs={epochs}",
        "callbacks.early_stopping=null",
        "callbacks.last_checkpoint.min_interval_s=0",
        "logger=[csv,wandb]",
    )
    # Requeue once a few epochs are checkpointed.
    job_dir = wait_for(
        lambda: next((tmp_path / "train" / "multiruns").glob("*/*/checkpoints/last.ckpt"), None)
    )
    job_dir = job_dir.parent.parent
    wait_for(lambda: len(epochs_in(job_dir)) >= 3 or None)
    job_id = json.loads((job_dir / "run.json").read_text())["slurm"]["job_id"]
    cluster.run(*REQUEUES[how], job_id)
    output = sweep.communicate(timeout=600)[0]
    assert sweep.returncode == 0, output[-3000:]

    ((same_dir, run),) = job_runs(tmp_path)
    assert same_dir == job_dir and run["status"] == "completed"
    assert run["slurm"]["restart_count"] == "1"
    log = (job_dir / "train.log").read_text()
    assert "Resuming unfinished sweep job from" in log and "Restored all states from the checkpoint" in log
    if how == "time_limit_signal":
        # submitit's handler (its log lines are in the run's log) caught the signal and requeued.
        assert "Caught signal SIGUSR2" in log and "Requeued job" in log
    # Every epoch once: the history resumed with the checkpoint, the epoch in progress was redone.
    assert epochs_in(job_dir) == list(range(epochs))
    # Both attempts logged to the same W&B run.
    attempts = list((job_dir / "wandb").glob("offline-run-*"))
    assert len(attempts) == 2 and len({path.name.rsplit("-", 1)[1] for path in attempts}) == 1
