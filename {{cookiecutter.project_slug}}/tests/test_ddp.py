"""DDP with two CPU processes (trainer=ddp_sim): single runs, sweeps and parallel sweeps.

Each job must train once with both ranks, write one directory and one run.json, and test on the
whole test split. The test split here has 189 samples, an odd number: a sampler that pads the
ranks' shares to equal length would count one sample twice and change the accuracy.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, read_run, run_script

from {{ cookiecutter.package_name }}.data.loading import WholeSplitSampler
from {{ cookiecutter.package_name }}.launch.ddp_ranks import free_port

SHORT_DDP = [
    "trainer=ddp_sim",
    "logger=csv",
    "trainer.max_epochs=2",
    "+trainer.limit_train_batches=4",
    "data.test_fraction=0.105",
    "callbacks.progress_bar=null",
]


def assert_one_job_on_two_ranks(job_dir: Path) -> dict:
    run = read_run(job_dir)
    assert run["status"] == "completed" and run["world_size"] == 2
    assert run["effective_batch_size"] == 2 * 64
    # Rank 0 owns the config record and the log; rank 1 only has a log of its own.
    assert (job_dir / ".hydra" / "config.yaml").is_file()
    assert sorted(path.name for path in job_dir.glob("train*.log")) == ["train.log", "train_rank1.log"]
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in (job_dir / "train_rank1.log").read_text()
    # Metrics written once, by rank 0: two epochs of validation, one test.
    rows = list(csv.DictReader((job_dir / "csv" / "version_0" / "metrics.csv").open()))
    assert [bool(row["val/acc"]) for row in rows].count(True) == 2
    assert [bool(row["test/acc"]) for row in rows].count(True) == 1
    return run


def test_single_ddp_run_tests_on_the_whole_test_split(tmp_path):
    run_dir = tmp_path / "ddp"
    run_script(
        "train.py",
        *SHORT_DDP,
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={tmp_path}",
    )
    trained = assert_one_job_on_two_ranks(run_dir)

    eval_dir = tmp_path / "eval"
    run_script(
        "eval.py", f"ckpt_path={trained['best_checkpoint']}", "trainer=cpu", f"hydra.run.dir={eval_dir}"
    )
    single_process = read_run(eval_dir)
    assert single_process["world_size"] == 1
    # The same checkpoint, on one process and on two: every test sample counted once in both.
    assert trained["metrics"]["test/acc"] == single_process["metrics"]["test/acc"]
    assert round(trained["metrics"]["test/acc"] * 189, 4).is_integer()

    ddp_eval_dir = tmp_path / "eval_ddp"
    run_script(
        "eval.py",
        f"ckpt_path={trained['best_checkpoint']}",
        "trainer=ddp_sim",
        f"hydra.run.dir={ddp_eval_dir}",
    )
    two_processes = read_run(ddp_eval_dir)
    assert two_processes["world_size"] == 2
    assert two_processes["metrics"]["test/acc"] == single_process["metrics"]["test/acc"]


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_ddp_sweep_trains_each_job_once_on_two_ranks(tmp_path, launcher):
    run_script(
        "train.py", "-m", f"hydra/launcher={launcher}", "seed=1,2", *SHORT_DDP, f"paths.log_dir={tmp_path}"
    )
    # One sweep directory (a rank re-running the sweep would make a second) with one folder per job.
    (sweep_dir,) = (tmp_path / "train" / "multiruns").iterdir()
    job_dirs = sorted(path for path in sweep_dir.iterdir() if path.is_dir())
    assert len(job_dirs) == 2
    runs = [assert_one_job_on_two_ranks(job_dir) for job_dir in job_dirs]
    assert [run["seed"] for run in runs] == [1, 2]
    assert not (tmp_path / "train" / "runs").exists()


@pytest.mark.parametrize("world_size", [2, 3, 4])
@pytest.mark.parametrize("size", [0, 1, 5, 189])
def test_the_ranks_shares_hold_every_sample_once(world_size, size):
    shares = [list(WholeSplitSampler(range(size), world_size, rank)) for rank in range(world_size)]
    assert sorted(index for share in shares for index in share) == list(range(size))
    assert [len(WholeSplitSampler(range(size), world_size, rank)) for rank in range(world_size)] == [
        len(share) for share in shares
    ]
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_ranks_started_with_different_configs_refuse_to_train(tmp_path):
    """What Lightning's own launcher does under Optuna: each rank samples its own learning rate."""
    run_dir = tmp_path / "mismatch"
    environment = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    ranks = [
        subprocess.Popen(
            [
                sys.executable,
                "train.py",
                *SHORT_DDP,
                f"model.optimizer.lr={lr}",
                f"hydra.run.dir={run_dir}",
                "extras.print_config=false",
            ],
            cwd=ROOT,
            env={**environment, "LOCAL_RANK": str(rank), "NODE_RANK": "0"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank, lr in enumerate([0.001, 0.01])
    ]
    outputs = [rank.communicate(timeout=300)[0] for rank in ranks]
    assert [rank.returncode for rank in ranks] != [0, 0]
    assert all("DDP ranks [1] were started with a different config" in output for output in outputs)
    assert read_run(run_dir)["status"] == "failed"


def test_several_machines_without_a_cluster_launcher_fail_clearly(tmp_path):
    result = run_script(
        "train.py", *SHORT_DDP, "trainer.num_nodes=2", f"hydra.run.dir={tmp_path / 'run'}", check=False
    )
    assert result.returncode != 0
    assert "trainer.num_nodes=2 needs one process per node started by a cluster launcher" in result.stderr
    assert read_run(tmp_path / "run")["status"] == "failed"
