"""Multi-node DDP for real: jobs whose ranks run on the two hosts of a SLURM cluster that this
module starts on the machine (two_host_cluster.py; needs root for the network namespaces), and
lost ranks, on two hosts and on one.

The test split has 189 samples, an odd number, as in test_ddp.py: every rank's share of it is
counted once, so that a two-node job and a one-node job of the same world size and seed report
the same test metrics.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, read_run, run_script
from slurm_sweeps import epochs_in, job_runs, run_sweep, start_sweep, wait_for
from two_host_cluster import TwoHostSlurmCluster, unavailable

UNAVAILABLE = unavailable()
needs_two_hosts = pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or "")

# DDP on CPU (gloo): trainer=ddp_sim is trainer=ddp's strategy on CPU processes.
TWO_NODES = ["trainer=ddp_sim", "trainer.num_nodes=2"]
SHORT = ["trainer.max_epochs=2", "+trainer.limit_train_batches=4", "data.test_fraction=0.105"]
# How far the test metrics of a two-node job may be from a one-node job's (the same world size
# and seed). Measured: equal to the last bit, with one thread per rank on both. With Lightning's
# default (the cores over the ranks on the machine: 2 threads per rank on two hosts, 1 on one)
# the matrix products sum in another order: test/loss 1.2e-3 apart after 8 steps, test/acc equal.
METRIC_TOLERANCE = 0.0
ONE_THREAD = {"OMP_NUM_THREADS": "1"}
# A lost rank fails its job within this (the kill is seen at once: its sockets close).
LOST_RANK_BOUND_S = 60


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = TwoHostSlurmCluster(tmp_path_factory.mktemp("two_hosts")).start()
    yield cluster
    cluster.stop()


def assert_one_record(job_dir: Path, run: dict, world_size: int, hosts: list[str]) -> None:
    assert run["status"] == "completed", run.get("error")
    assert run["world_size"] == world_size and run["hosts"] == hosts
    assert run["effective_batch_size"] == 64 * world_size
    # Written by rank 0 alone, once per start: one segment, one record, every other rank a log.
    assert len(run["segments"]) == 1 and not list(job_dir.glob("**/run.json.tmp"))
    logs = sorted(path.name for path in job_dir.glob("train*.log"))
    assert logs == ["train.log", *(f"train_rank{rank}.log" for rank in range(1, world_size))]


@needs_two_hosts
def test_a_two_node_sweep_runs_each_job_on_both_hosts(cluster, tmp_path):
    run_sweep(
        tmp_path, *TWO_NODES, "trainer.devices=1", "seed=1,2", *SHORT, env={**cluster.env, **ONE_THREAD}
    )
    runs = job_runs(tmp_path)
    assert [run["seed"] for _, run in runs] == [1, 2]
    for job_dir, run in runs:
        assert_one_record(job_dir, run, world_size=2, hosts=["bh1", "bh2"])
        assert run["slurm"]["node_list"] == "bh[1-2]"

    # The same world size and seed on one machine: the same test metrics.
    one_node = tmp_path / "one_node"
    run_script(
        "train.py",
        "trainer=ddp_sim",
        "seed=1",
        *SHORT,
        "logger=csv",
        f"hydra.run.dir={one_node}",
        env={**os.environ, **ONE_THREAD},
    )
    single = read_run(one_node)
    assert single["world_size"] == 2 and len(set(single["hosts"])) == 1
    two_node_metrics = runs[0][1]["metrics"]
    for name in ("test/acc", "test/loss"):
        assert abs(two_node_metrics[name] - single["metrics"][name]) <= METRIC_TOLERANCE, name


@needs_two_hosts
def test_two_tasks_per_node_make_a_world_of_four(cluster, tmp_path):
    run_sweep(tmp_path, *TWO_NODES, "trainer.devices=2", "seed=1", *SHORT, env=cluster.env)
    ((job_dir, run),) = job_runs(tmp_path)
    assert_one_record(job_dir, run, world_size=4, hosts=["bh1", "bh1", "bh2", "bh2"])


def environ_of(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def job_processes(job_id: str) -> list[int]:
    """Every process of SLURM job `job_id`, on either host."""
    pids = [int(proc.name) for proc in Path("/proc").iterdir() if proc.name.isdigit()]
    return [pid for pid in pids if environ_of(pid).get("SLURM_JOB_ID") == job_id]


def job_dir_of(log_dir: Path, seed: int) -> Path:
    """The sweep's job directory for `seed` (named by the job's overrides, sorted)."""
    dirs = (log_dir / "train" / "multiruns").glob("*/*")
    return next(path for path in dirs if f"seed={seed}" in path.name.split(","))


def running_job(log_dir: Path, seed: int, epochs: int) -> tuple[Path, str]:
    """The job directory and SLURM job id of the sweep's job for `seed`, once it trained `epochs`."""
    job_dir = wait_for(lambda: job_dir_of(log_dir, seed))
    wait_for(lambda: len(epochs_in(job_dir)) >= epochs)
    return job_dir, read_run(job_dir)["slurm"]["job_id"]


# How a running job gets requeued: preempted (SLURM requeues it), or the signal SLURM sends
# `signal_delay_s` before the time limit, on which submitit requeues it.
REQUEUES = {
    "preempted": ("scontrol", "requeue"),
    "time_limit_signal": ("scancel", "--signal=USR2"),
}


@needs_two_hosts
@pytest.mark.parametrize("how", sorted(REQUEUES))
def test_a_requeued_two_node_job_resumes_from_its_last_checkpoint(cluster, tmp_path, how):
    epochs = 8
    sweep = start_sweep(
        cluster,
        tmp_path,
        *TWO_NODES,
        "trainer.devices=1",
        "seed=1",
        f"trainer.max_epochs={epochs}",
        "callbacks.early_stopping=null",
        "callbacks.last_checkpoint.min_interval_s=0",
    )
    try:
        job_dir, job_id = running_job(tmp_path, seed=1, epochs=3)
        wait_for(lambda: (job_dir / "checkpoints" / "last.ckpt").is_file())
        cluster.run(*REQUEUES[how], job_id)
        output = sweep.communicate(timeout=400)[0]
    finally:
        sweep.kill()
    assert sweep.returncode == 0, output[-3000:]
    ((same_dir, run),) = job_runs(tmp_path)
    assert same_dir == job_dir and run["status"] == "completed"
    assert run["slurm"]["restart_count"] == "1" and run["hosts"] == ["bh1", "bh2"]
    log = (job_dir / "train.log").read_text()
    assert "Resuming unfinished sweep job from" in log and "Restored all states from the checkpoint" in log
    # Every epoch once. Both ranks resumed from it: a rank that started over would wait for
    # collectives the other never makes, and the job would fail instead of completing.
    assert epochs_in(job_dir) == list(range(epochs))


@needs_two_hosts
def test_a_lost_host_fails_its_job_in_bounded_time_and_the_sweep_goes_on(cluster, tmp_path):
    sweep = start_sweep(
        cluster,
        tmp_path,
        *TWO_NODES,
        "trainer.devices=1",
        "seed=1,2",
        "trainer.max_epochs=12",
        "callbacks.early_stopping=null",
        # The bound on a rank that stops answering (here it is killed: seen at once).
        "trainer.strategy.timeout.seconds=30",
    )
    try:
        job_dir, job_id = running_job(tmp_path, seed=1, epochs=2)
        (rank_one,) = [
            pid
            for pid in cluster.processes_on("bh2")
            if environ_of(pid).get("SLURM_JOB_ID") == job_id
            and environ_of(pid).get("SLURM_PROCID") == "1"
            and "submitit" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        os.kill(rank_one, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: read_run(job_dir)["status"] == "failed", timeout=LOST_RANK_BOUND_S)
        failed_after = time.monotonic() - killed_at
        output = sweep.communicate(timeout=300)[0]
        sweep_after = time.monotonic() - killed_at
    finally:
        sweep.kill()
    print(f"lost host: run.json failed after {failed_after:.1f} s, the sweep ended after {sweep_after:.1f} s")
    failed = read_run(job_dir)
    assert failed["error"].startswith("DDP rank 1 on bh2 went away"), failed["error"]
    assert failed["hosts"] == ["bh1", "bh2"]
    # The sweep reports the failure, and only once its other job finished.
    assert sweep.returncode != 0, output[-3000:]
    other = job_dir_of(tmp_path, seed=2)
    assert read_run(other)["status"] == "completed" and len(epochs_in(other)) == 12
    assert wait_for(lambda: not job_processes(job_id) or None, timeout=30) is not None


def child_of(pid: int, marker: str) -> int:
    """The child process of `pid` whose command line holds `marker`."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (proc / "cmdline").read_text()
            except OSError:
                continue
            if int(stat[1]) == pid and marker in cmdline:
                return int(proc.name)
    raise StopIteration(marker)


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_a_lost_rank_of_a_one_node_job_fails_it_in_bounded_time(tmp_path, how):
    """Rank 1 killed (its sockets close) or stopped (it holds them open and never answers: the
    collective timeout, trainer.strategy.timeout, bounds the wait)."""
    timeout_s = 10
    run_dir, log = tmp_path / "run", tmp_path / "train.out"
    # A file, not a pipe: both ranks write to it, and nothing reads a pipe until the end.
    out = log.open("w")
    rank_zero = subprocess.Popen(
        [
            sys.executable,
            "train.py",
            "trainer=ddp_sim",
            "logger=csv",
            "callbacks.progress_bar=null",
            "callbacks.early_stopping=null",
            "trainer.max_epochs=200",
            f"trainer.strategy.timeout.seconds={timeout_s}",
            f"hydra.run.dir={run_dir}",
            "extras.print_config=false",
        ],
        cwd=ROOT,
        env={**os.environ, "WANDB_MODE": "offline"},
        stdout=out,
        stderr=subprocess.STDOUT,
    )

    def trained_two_epochs() -> bool:
        assert rank_zero.poll() is None, f"train.py ended before rank 1 was lost:\n{log.read_text()[-3000:]}"
        return len(epochs_in(run_dir)) >= 2

    try:
        wait_for(trained_two_epochs)
        rank_one = wait_for(lambda: child_of(rank_zero.pid, "train_rank1"))
        os.kill(rank_one, signal.SIGKILL if how == "killed" else signal.SIGSTOP)
        lost_at = time.monotonic()
        rank_zero.wait(timeout=timeout_s + LOST_RANK_BOUND_S)
        ended_after = time.monotonic() - lost_at
        output = log.read_text()
    finally:
        rank_zero.kill()
        out.close()
    print(f"one node, rank 1 {how}: the run ended after {ended_after:.1f} s")
    assert rank_zero.returncode != 0
    run = read_run(run_dir)
    expected = "killed by SIGKILL" if how == "killed" else "stopped, not answering"
    assert run["status"] == "failed"
    assert run["error"].startswith(f"DDP rank 1 on {socket.gethostname()} went away ({expected})"), run[
        "error"
    ]
    assert ended_after < (LOST_RANK_BOUND_S if how == "killed" else timeout_s + LOST_RANK_BOUND_S)
    # Nothing left: rank 1 ended with its job.
    assert wait_for(lambda: not Path(f"/proc/{rank_one}").exists(), timeout=30)
    assert "went away" in output


def test_a_job_shape_that_contradicts_the_trainer_stops_before_submitting(tmp_path):
    """No cluster needed: the launcher checks every job before it asks SLURM for anything."""
    mismatch = run_sweep(
        tmp_path, *TWO_NODES, "trainer.devices=2", "hydra.launcher.tasks_per_node=1", check=False
    )
    assert mismatch.returncode == 1
    (line,) = mismatch.stderr.strip().splitlines()
    assert (
        line.startswith("Error: job #0") and "hydra.launcher.tasks_per_node=1 but trainer.devices=2" in line
    )
    swept = run_sweep(tmp_path, *TWO_NODES, "trainer.devices=1,2", check=False)
    assert swept.returncode == 1
    assert "a sweep over trainer.devices needs one sweep per value" in swept.stderr.strip().splitlines()[-1]
    assert not list(tmp_path.glob("train/multiruns/*/*/run.json"))
