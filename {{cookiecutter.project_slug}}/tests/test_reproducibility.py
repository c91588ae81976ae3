"""A run can be re-created: the same seed gives the same numbers, also after a crash, and the
run directory says which code, packages and machine produced it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from conftest import ROOT, copy_of_project, python_path, read_run, run_script

from train import train

DETERMINISTIC = [
    "trainer.deterministic=true",
    "seed=0",
    "callbacks.early_stopping=null",
    "callbacks.progress_bar=null",
    "extras.print_config=false",
]


def test_the_same_seed_twice_gives_identical_metrics(make_config):
    first = train(make_config("debug=limit", *DETERMINISTIC)).metrics
    second = train(make_config("debug=limit", *DETERMINISTIC)).metrics
    assert first == second


def test_another_seed_gives_other_metrics(make_config):
    first = train(make_config("debug=limit", *DETERMINISTIC)).metrics
    second = train(make_config("debug=limit", *DETERMINISTIC, "seed=1")).metrics
    assert first != second


def history_length(run_dir: Path) -> int:
    try:
        return len((run_dir / "history.csv").read_text().splitlines()) - 1
    except OSError:
        return 0


def test_a_run_killed_mid_epoch_resumes_to_the_same_result(tmp_path):
    # Small batches: an epoch takes long enough that the kill lands inside one.
    # last.ckpt after every epoch, as a run with epochs longer than min_interval_s writes it.
    command = [
        *DETERMINISTIC,
        "trainer.max_epochs=6",
        "data.batch_size=16",
        "callbacks.last_checkpoint.min_interval_s=0",
        f"paths.log_dir={tmp_path}",
    ]
    run_script("train.py", *command, f"hydra.run.dir={tmp_path / 'whole'}")

    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "train.py", *command, f"hydra.run.dir={killed}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "WANDB_MODE": "offline"},
    )
    deadline = time.monotonic() + 300
    while history_length(killed) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.2)  # into the fourth epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert read_run(killed)["status"] == "running" and history_length(killed) < 6

    resumed = run_script("train.py", *command, f"hydra.run.dir={killed}", "ckpt_path=last")
    assert "Resuming from" in resumed.stdout
    assert read_run(killed)["metrics"] == read_run(tmp_path / "whole")["metrics"]
    assert (killed / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()


SAVE_FOREVER = """
import sys, torch
from {{ cookiecutter.package_name }}.run.atomic_checkpoint_io import AtomicCheckpointIO
io = AtomicCheckpointIO()
io.save_checkpoint({"weights": torch.ones(3)}, sys.argv[1])
print("saved", flush=True)
while True:
    io.save_checkpoint({"weights": torch.randn(20_000_000)}, sys.argv[1])
"""


def test_a_kill_during_a_checkpoint_save_leaves_the_previous_checkpoint_whole(tmp_path):
    checkpoint = tmp_path / "last.ckpt"
    partial = tmp_path / "last.ckpt.tmp"
    saver = subprocess.Popen(
        [sys.executable, "-c", SAVE_FOREVER, str(checkpoint)], stdout=subprocess.PIPE, text=True
    )
    assert saver.stdout.readline().strip() == "saved"
    deadline = time.monotonic() + 60
    while size_of(partial) == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    saver.send_signal(signal.SIGKILL)
    saver.wait()
    # Killed while writing a big checkpoint: the last whole one is still there, and loads (the
    # small first one, or on a loaded machine a big one whose write finished before the kill).
    weights = torch.load(checkpoint, weights_only=True)["weights"]
    assert torch.equal(weights, torch.ones(3)) or weights.shape == (20_000_000,)


def size_of(path: Path) -> int:
    """0 for a file that is not there (yet, or any more: renamed into place meanwhile)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def test_the_manifest_says_what_ran_outside_git(tmp_path):
    project = copy_of_project(tmp_path / "project")
    run_dir = tmp_path / "run"
    run_in(project, "debug=fdr", "seed=7", f"hydra.run.dir={run_dir}")
    manifest = json.loads((run_dir / read_run(run_dir)["manifest"]).read_text())
    assert manifest["git"]["commit"] is None and "not in a git repository" in manifest["git"]["note"]
    assert manifest["seed"] == 7 and manifest["command"][1:3] == ["train.py", "debug=fdr"]
    assert manifest["torch"] == torch.__version__ and manifest["hostname"] and manifest["accelerators"]
    packages = (run_dir / "manifest" / manifest["packages"]).read_text().splitlines()
    assert f"torch=={torch.__version__}" in packages
    config = (run_dir / "manifest" / "config.yaml").read_text()
    assert "seed: 7" in config and "${" not in config, "the config is saved resolved"


def test_the_manifest_records_the_commit_and_the_uncommitted_changes(tmp_path):
    project = copy_of_project(tmp_path / "project")
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], cwd=project, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout
    with (project / "train.py").open("a") as script:
        script.write("# an uncommitted change\n")

    run_dir = tmp_path / "run"
    run_in(project, "debug=fdr", f"hydra.run.dir={run_dir}")
    manifest = json.loads((run_dir / "manifest" / "manifest.json").read_text())
    assert manifest["git"]["commit"] == commit.strip() and manifest["git"]["dirty"]
    assert "+# an uncommitted change" in (run_dir / "manifest" / "git.patch").read_text()
    assert manifest["rerun"].startswith(f"git checkout {commit.strip()} && git apply ")
    assert manifest["rerun"].endswith("python train.py debug=fdr extras.print_config=false seed=42")


def run_in(project: Path, *overrides: str) -> None:
    result = subprocess.run(
        [sys.executable, "train.py", *overrides, "extras.print_config=false"],
        cwd=project,
        capture_output=True,
        text=True,
        # The package as installed, or as the suite finds it (conftest puts src/ on the path).
        env={**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": python_path(ROOT / "src")},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
