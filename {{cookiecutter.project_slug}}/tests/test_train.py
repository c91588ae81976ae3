"""Training end to end: each model, precision and logger in-process; the scripts as a user runs them."""

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
import torch
from conftest import ROOT, config_options, read_run, run_script
from lightning.pytorch.profilers import SimpleProfiler

from {{ cookiecutter.package_name }}.cli.hydra_versions import version_base
from {{ cookiecutter.package_name }}.run.no_profiler import NoProfiler
from {{ cookiecutter.package_name }}.run.trusted_targets import instantiate
from train import train


@pytest.mark.parametrize("model", config_options("model"))
def test_fast_dev_run(make_config, model):
    metrics = train(make_config(f"model={model}", "debug=fdr")).metrics
    assert {"train/loss", "test/acc"} <= metrics.keys()


# Each switch, the Trainer attribute it must reach, and the value there.
TRAINER_SWITCHES = [
    ("trainer.precision=32", "precision", "32-true"),
    ("trainer.precision=64", "precision", "64-true"),
    ("trainer.precision=bf16-mixed", "precision", "bf16-mixed"),
    # float16 autocast on CPU: Lightning runs it as bfloat16 there, and says so.
    ("trainer.precision=16-mixed", "precision", "bf16-mixed"),
    ("trainer.accumulate_grad_batches=4", "accumulate_grad_batches", 4),
    ("trainer.gradient_clip_val=0.5", "gradient_clip_val", 0.5),
]


@pytest.mark.parametrize(
    ("override", "attribute", "value"), TRAINER_SWITCHES, ids=[s[0] for s in TRAINER_SWITCHES]
)
def test_trainer_switches_reach_the_trainer_and_train(make_config, override, attribute, value):
    cfg = make_config("debug=limit", override)
    assert getattr(instantiate(cfg.trainer), attribute) == value
    run = train(cfg)
    metrics, details = run.metrics, run.details
    assert metrics["train/loss"] > 0 and 0.0 <= metrics["test/acc"] <= 1.0
    assert details["precision"] == value if attribute == "precision" else details["precision"] == "32-true"


def test_run_records_the_effective_batch_size(make_config):
    cfg = make_config("debug=limit", "data.batch_size=16", "trainer.accumulate_grad_batches=3")
    details = train(cfg).details
    assert (details["world_size"], details["effective_batch_size"]) == (1, 16 * 3)


LOGGER_FILES = {
    "csv": "csv/version_0/metrics.csv",
    "tensorboard": "tensorboard/events.out.tfevents.*",
    "wandb": "wandb/offline-run-*",
    "mlflow": "logs/mlflow.db",
}


@pytest.mark.parametrize("logger", sorted(LOGGER_FILES))
def test_logger_writes_its_files(make_config, tmp_path, logger):
    train(make_config(f"logger={logger}", "debug=limit"))
    assert list((tmp_path / "run").glob(LOGGER_FILES[logger])), f"logger={logger} wrote nothing"


def test_the_resolved_config_is_logged(make_config, tmp_path):
    train(make_config("logger=csv", "debug=limit", "model=cnn"))
    assert "nets.cnn.CNN" in (tmp_path / "run" / "csv" / "version_0" / "hparams.yaml").read_text()


def test_every_epoch_is_kept_in_history(make_config, tmp_path):
    train(make_config("debug=limit"))
    lines = (tmp_path / "run" / "history.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[0] == "epoch" and {"val/acc", "val/loss", "train/loss"} <= set(header)
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "2"]


def test_overfit_learns_its_batches_and_says_so(make_config, caplog):
    cfg = make_config("debug=overfit", "trainer.max_epochs=30", "callbacks.progress_bar=null")
    with caplog.at_level(logging.INFO):
        metrics = train(cfg).metrics
    assert metrics["train/acc"] >= 0.99
    assert (
        f"overfit: train/acc {metrics['train/acc']:.4f} on 3 batches (>= 0.99): it can learn them"
        in caplog.text
    )


def test_overfit_says_when_the_model_cannot_learn_its_batches(make_config, caplog):
    # A learning rate too small to learn anything, as with a loss cut off from the weights.
    cfg = make_config(
        "debug=overfit", "trainer.max_epochs=2", "model.optimizer.lr=1e-9", "callbacks.progress_bar=null"
    )
    with caplog.at_level(logging.INFO):
        train(cfg)
    assert "on 3 batches (< 0.99): it could not learn them: check the learning rate, the loss" in caplog.text


@pytest.mark.parametrize("debug", ["profiler", "anomaly"])
def test_debug_config_runs(make_config, debug):
    metrics = train(make_config(f"debug={debug}", "callbacks.progress_bar=null")).metrics
    assert "test/acc" in metrics


def test_the_default_profiler_times_nothing_and_debug_profiler_times_the_hooks(make_config):
    profiler = instantiate(make_config().trainer).profiler
    assert isinstance(profiler, NoProfiler)
    # One no-op context for every hook call, nested ones too (a callback hook inside a loop's).
    with profiler.profile("[Callback]a.on_train_batch_end") as outer, profiler.profile("b") as inner:
        assert outer is None and inner is None
    assert profiler.profile("a") is profiler.profile("b")
    assert isinstance(instantiate(make_config("debug=profiler").trainer).profiler, SimpleProfiler)


def test_defaults_learn_digits(make_config):
    run = train(make_config("trainer.max_epochs=10", "callbacks.progress_bar=null"))
    metrics, details = run.metrics, run.details
    assert metrics["test/acc"] >= 0.93 and Path(details["best_checkpoint"]).is_file()
    assert details["seed"] == 42


def test_train_then_eval_gives_the_same_test_accuracy(tmp_path):
    run_dir = tmp_path / "train_run"
    result = run_script("train.py", "debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}")
    trained = read_run(run_dir)
    # The last line says where the run went and what it measured.
    metrics = {name: f"{value:.4f}" for name, value in trained["metrics"].items()}
    shown = ", ".join(f"{name} {metrics[name]}" for name in ("val/acc_best", "test/acc", "test/loss"))
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.endswith(f"Done: {run_dir} ({shown}); its record: run.json")
    assert trained["status"] == "completed" and trained["choices"]["model"] == "mlp"

    eval_dir = tmp_path / "eval_run"
    run_script(
        "eval.py", "debug=limit", f"ckpt_path={trained['best_checkpoint']}", f"hydra.run.dir={eval_dir}"
    )
    evaluated = read_run(eval_dir)
    assert evaluated["status"] == "completed"
    assert evaluated["metrics"]["test/acc"] == pytest.approx(trained["metrics"]["test/acc"])


def test_eval_as_the_readme_writes_it(tmp_path):
    """No hydra.run.dir: eval.py picks its own run directory under logs/eval/runs/."""
    run_dir = tmp_path / "train_run"
    run_script(
        "train.py", "model=cnn", "debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}"
    )
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    result = run_script(
        "eval.py", f"ckpt_path={checkpoint}", f"paths.log_dir={tmp_path}", "trainer.accelerator=cpu"
    )
    # The CNN is rebuilt from the training run's config, though eval.yaml's default model is the MLP.
    assert "Using the task, model and data config of the training run" in result.stdout
    (evaluated,) = (tmp_path / "eval" / "runs").glob("*/run.json")
    record = json.loads(evaluated.read_text())
    assert record["status"] == "completed" and record["checkpoint"] == str(checkpoint)
    # What was evaluated, in run.json and the manifest's config alike.
    assert record["choices"]["model"] == "cnn" and record["choices"]["model/optimizer"] == "adamw"
    config = (evaluated.parent / "manifest" / "config.yaml").read_text()
    assert "nets.cnn.CNN" in config and "nets.mlp.MLP" not in config


def test_eval_without_checkpoint_fails_clearly(tmp_path):
    result = run_script("eval.py", f"hydra.run.dir={tmp_path / 'eval'}", check=False)
    assert result.returncode != 0 and "ckpt_path is required" in result.stderr
    assert read_run(tmp_path / "eval")["status"] == "failed"


def saved_epoch(run_dir: Path) -> int:
    """The epoch stored in a run's last.ckpt (0-based), whatever the logger."""
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["epoch"]


# A run meant to be extended: no schedule made for its first max_epochs (README: Resume).
EXTENDABLE = "model/scheduler=plateau"


def test_resume_from_last_checkpoint_in_a_given_run_dir(tmp_path):
    run_dir = tmp_path / "run"
    common = [
        "debug=limit",
        "logger=csv",
        EXTENDABLE,
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={tmp_path}",
    ]
    run_script("train.py", *common, "trainer.max_epochs=2")
    assert saved_epoch(run_dir) == 1
    first_metrics = (run_dir / "csv" / "version_0" / "metrics.csv").read_text()
    resumed = run_script("train.py", *common, "trainer.max_epochs=4", "ckpt_path=last")
    assert f"Resuming from {run_dir / 'checkpoints' / 'last.ckpt'}" in resumed.stdout
    assert saved_epoch(run_dir) == 3 and read_run(run_dir)["status"] == "completed"
    # One record of the whole run: its first start, both segments, the overrides as they now stand.
    run = read_run(run_dir)
    first, second = run["segments"]
    assert run["started_at"] == first["started_at"] and first["status"] == second["status"] == "completed"
    assert run["duration_s"] == pytest.approx(first["duration_s"] + second["duration_s"], abs=0.01)
    assert second["resumed_from"] == str(run_dir / "checkpoints" / "last.ckpt")
    assert "trainer.max_epochs=4" in run["overrides"] and "trainer.max_epochs=2" not in run["overrides"]
    assert not any(o.startswith("ckpt_path") for o in run["overrides"])
    # Each segment's config is kept, and the manifest re-runs both, in order.
    assert "max_epochs: 2" in (run_dir / ".hydra" / "config.yaml").read_text()
    (later,) = (run_dir / ".hydra").glob("segment_*/config.yaml")
    assert "max_epochs: 4" in later.read_text()
    manifest = json.loads((run_dir / second["manifest"]).read_text())
    # In a git repository (a bake's default) the re-run first checks out the code's commit.
    checkout = [] if manifest["git"]["commit"] is None else [f"git checkout {manifest['git']['commit']}"]
    steps = manifest["rerun"].split(" && ")
    assert steps[: len(checkout)] == checkout
    rerun = [step for step in steps if step.startswith("python ")]
    assert len(rerun) == 2 and "trainer.max_epochs=2" in rerun[0] and "ckpt_path" not in rerun[0]
    assert "trainer.max_epochs=4" in rerun[1] and rerun[1].endswith("seed=42 ckpt_path=last")
    # The CSV logger keeps the first part's file and writes the resumed part's beside it.
    assert (run_dir / "csv" / "version_0" / "metrics.csv").read_text() == first_metrics
    assert "test/acc" in (run_dir / "csv" / "version_1" / "metrics.csv").read_text().splitlines()[0]


def files_of(run_dir: Path) -> dict[Path, bytes]:
    """Every file of a run but its log, which each attempt appends to."""
    return {
        path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file() and path.suffix != ".log"
    }


def test_resuming_a_completed_run_is_refused_and_leaves_it_as_it_was(tmp_path):
    run_dir = tmp_path / "run"
    common = ["debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common)
    before = files_of(run_dir)
    result = run_script("train.py", *common, "ckpt_path=last", check=False)
    assert result.returncode != 0 and result.stderr.strip().splitlines() == [
        f"Error: ckpt_path=last: {run_dir} completed its 3 epochs, nothing is left to resume; its "
        "CosineAnnealingLR ends there: train a longer run anew (without ckpt_path) "
        "(HYDRA_FULL_ERROR=1 shows the traceback)"
    ]
    assert files_of(run_dir) == before


def test_a_longer_resume_of_a_schedule_made_for_fewer_epochs_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    common = ["debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common, "trainer.max_epochs=2")
    before = files_of(run_dir)
    result = run_script("train.py", *common, "trainer.max_epochs=4", "ckpt_path=last", check=False)
    assert result.returncode != 0
    assert (
        "its CosineAnnealingLR was built with T_max=2, this run asks for T_max=4; the resumed run would "
        "follow neither schedule: give trainer.max_epochs=2 to finish it as planned" in result.stderr
    )
    assert files_of(run_dir) == before


def test_train_without_fit_or_test_still_records_a_completed_run(tmp_path):
    run_script("train.py", "debug=fdr", "train=false", "test=false", f"hydra.run.dir={tmp_path}")
    run = read_run(tmp_path)
    assert (
        run["status"] == "completed" and run["best_checkpoint"] is None and "effective_batch_size" not in run
    )


def test_resume_last_finds_the_latest_run_and_continues_in_it(tmp_path):
    common = ["debug=limit", EXTENDABLE, f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common, "trainer.max_epochs=1")
    (first_run,) = (tmp_path / "debug" / "runs").iterdir()
    # Display and checkpoint frequency may change on resume: the run is the same configuration.
    display = [
        "extras.print_config=false",
        "callbacks.progress_bar=null",
        "callbacks.last_checkpoint.min_interval_s=0",
    ]
    resumed = run_script("train.py", *common, *display, "trainer.max_epochs=2", "ckpt_path=last")
    assert f"Resuming from {first_run / 'checkpoints' / 'last.ckpt'}" in resumed.stdout
    assert list((tmp_path / "debug" / "runs").iterdir()) == [first_run]
    assert saved_epoch(first_run) == 1


def test_resume_last_tells_settings_that_change_what_is_learnt_from_those_that_do_not():
    from {{ cookiecutter.package_name }}.run.directory import configuration

    trained = configuration({"model": "mlp", "hydra/launcher": "basic"}, ["seed=1"])
    resumed = ["trainer.max_time=00:02:00:00", "+extras.print_config=false", "~callbacks.progress_bar"]
    assert configuration({"model": "mlp", "hydra/launcher": "joblib"}, ["seed=1", *resumed]) == trained
    for changed in (
        "model.optimizer.lr=0.1",
        "seed=2",
        "callbacks.early_stopping.patience=1",
        "+callbacks.progress_bar_logger.x=1",  # only starts like a key that may change
    ):
        assert configuration({"model": "mlp"}, ["seed=1", changed]) != trained, changed
    assert configuration({"model": "cnn"}, ["seed=1"]) != trained


# The keys Hydra's override_dirname excluded when it named sweep job directories (until NEUTRAL_KEYS
# replaced that list): a sweep re-run after the change must find its jobs' directories.
EXCLUDED_BY_HYDRA = [
    "ckpt_path",
    "paths.log_dir",
    "extras.print_config",
    "extras.ignore_warnings",
    "callbacks.progress_bar",
    "callbacks.last_checkpoint.min_interval_s",
]
JOB_DIR_NAMES = [
    (["seed=1", "model=linear"], "model=linear,seed=1"),
    (
        ["model=cnn", "seed=2", "paths.log_dir=/scratch/logs", "ckpt_path=last", "extras.print_config=false"],
        "model=cnn,seed=2",
    ),
    (["callbacks.progress_bar=null", "callbacks.last_checkpoint.min_interval_s=0", "seed=3"], "seed=3"),
    (["trainer.max_epochs=10", "seed=3"], "seed=3,trainer.max_epochs=10"),
    (
        ["+trainer.limit_train_batches=4", "~callbacks.early_stopping", "experiment=ablation_sgd"],
        "+trainer.limit_train_batches=4,experiment=ablation_sgd,~callbacks.early_stopping",
    ),
    (
        ["model/optimizer=sgd", "model.optimizer.lr=0.01"],
        "model.optimizer.lr=0.01,model-optimizer=sgd",
    ),
    (["extras.ignore_warnings=false"], "7"),
    ([], "7"),
]


@pytest.mark.parametrize(("overrides", "name"), JOB_DIR_NAMES)
def test_sweep_job_directories_keep_their_names(overrides, name):
    from hydra import compose, initialize_config_dir

    from {{ cookiecutter.package_name }}.run.directory import job_dir_name

    assert job_dir_name(7, overrides) == name
    # What Hydra's own override_dirname makes of them, with the keys it used to exclude.
    excluded = f"hydra.job.config.override_dirname.exclude_keys=[{','.join(EXCLUDED_BY_HYDRA)}]"
    with initialize_config_dir(config_dir=str(ROOT / "configs"), **version_base()):
        cfg = compose("train", overrides=[*overrides, excluded], return_hydra_config=True)
    assert (cfg.hydra.job.override_dirname.replace("/", "-") or "7") == name


def test_a_long_job_directory_name_is_shortened_with_a_hash():
    from {{ cookiecutter.package_name }}.run.directory import MAX_JOB_DIR_NAME, job_dir_name

    overrides = [f"model.net.hidden_sizes=[{','.join(['512'] * 40)}]"]
    name = job_dir_name(0, overrides)
    assert len(name) == MAX_JOB_DIR_NAME and re.fullmatch(
        r"model\.net\.hidden_sizes=\[512,.*_[0-9a-f]{8}", name
    )
    assert job_dir_name(0, [overrides[0].replace("512]", "256]")]) != name


def test_resume_last_never_continues_a_run_of_another_configuration(tmp_path):
    common = ["debug=limit", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common, "model=mlp")
    (mlp_run,) = (tmp_path / "debug" / "runs").iterdir()
    before = (mlp_run / "run.json").read_text()
    result = run_script("train.py", *common, "model=cnn", "ckpt_path=last", check=False)
    assert result.returncode != 0 and "no earlier run with the same config" in result.stderr
    assert (mlp_run / "run.json").read_text() == before


def test_resumed_run_remembers_its_best_validation_accuracy(tmp_path):
    run_dir = tmp_path / "run"
    common = ["debug=limit", EXTENDABLE, f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common, "trainer.max_epochs=2")
    lines = (run_dir / "history.csv").read_text().splitlines()
    column = lines[0].split(",").index("val/acc")
    first_best = max(float(line.split(",")[column]) for line in lines[1:])
    run_script("train.py", *common, "trainer.max_epochs=3", "ckpt_path=last")
    assert read_run(run_dir)["metrics"]["val/acc_best"] >= first_best


def test_resume_last_without_any_run_fails_clearly(tmp_path):
    result = run_script("train.py", "debug=limit", f"paths.log_dir={tmp_path}", "ckpt_path=last", check=False)
    assert result.returncode != 0 and "ckpt_path=last: no checkpoints/last.ckpt" in result.stderr
    (run_dir,) = (tmp_path / "debug" / "runs").iterdir()
    assert read_run(run_dir)["status"] == "failed"


def sweep_runs(sweep_dir: Path) -> list[dict]:
    return [read_run(path.parent) for path in sorted(sweep_dir.glob("*/run.json"))]


def test_sweep_runs_every_job_in_a_directory_named_by_its_overrides(tmp_path):
    run_script(
        "train.py", "-m", "seed=1,2", "model/optimizer=adamw,sgd", "debug=limit", f"paths.log_dir={tmp_path}"
    )
    (sweep_dir,) = (tmp_path / "debug" / "multiruns").iterdir()
    names = sorted(path.parent.name for path in sweep_dir.glob("*/run.json"))
    # Named by the job's overrides ('/' replaced), not by its number: re-running the sweep with its
    # overrides in another order finds the same directories.
    assert names == [f"debug=limit,model-optimizer={o},seed={s}" for o in ("adamw", "sgd") for s in (1, 2)]
    assert [(run["seed"], run["status"]) for run in sweep_runs(sweep_dir)] == [
        (1, "completed"),
        (2, "completed"),
    ] * 2


def test_joblib_launcher_runs_jobs_in_parallel_processes(tmp_path):
    run_script(
        "train.py", "-m", "hydra/launcher=joblib", "seed=1,2", "debug=limit", f"paths.log_dir={tmp_path}"
    )
    (sweep_dir,) = (tmp_path / "debug" / "multiruns").iterdir()
    assert [run["status"] for run in sweep_runs(sweep_dir)] == ["completed", "completed"]


def test_ablation_experiments_sweep_with_glob(tmp_path):
    run_script("train.py", "-m", "experiment=glob(ablation_*)", "debug=limit", f"paths.log_dir={tmp_path}")
    (sweep_dir,) = (tmp_path / "debug" / "multiruns").iterdir()
    runs = sweep_runs(sweep_dir)
    assert sorted(run["choices"]["experiment"] for run in runs) == [
        "ablation_baseline",
        "ablation_no_batchnorm",
        "ablation_no_dropout",
        "ablation_sgd",
    ]
    assert all(run["status"] == "completed" for run in runs)


def test_a_failing_job_does_not_hide_the_others(tmp_path):
    # A negative learning rate makes the optimizer refuse to start.
    result = run_script(
        "train.py",
        "-m",
        "model.optimizer.lr=0.003,-1",
        "debug=limit",
        f"paths.log_dir={tmp_path}",
        check=False,
    )
    assert result.returncode != 0
    (sweep_dir,) = (tmp_path / "debug" / "multiruns").iterdir()
    runs = sweep_runs(sweep_dir)
    (failed,) = [run for run in runs if run["status"] == "failed"]
    assert [run["status"] for run in runs].count("completed") == 1
    assert "learning rate" in failed["error"].lower() and "\n" not in failed["error"]


def test_k_fold_sweep_reports_one_cross_validated_group(tmp_path):
    sweep_dir = tmp_path / "kfold"
    command = ["-m", "data.num_folds=3", "data.fold=0,1,2", "debug=limit", f"hydra.sweep.dir={sweep_dir}"]
    run_script("train.py", *command, f"paths.log_dir={tmp_path}")
    folds = sorted(
        next(o for o in run["overrides"] if o.startswith("data.fold=")) for run in sweep_runs(sweep_dir)
    )
    assert folds == ["data.fold=0", "data.fold=1", "data.fold=2"]
    report = run_script("report.py", str(sweep_dir), "--metric", "val/acc_best")
    # The folds pool into one group: n = 3 runs, nothing failed.
    (row,) = [line for line in report.stdout.splitlines() if "data.num_folds=3" in line]
    assert "data.fold" not in row and "| 3 | 0 |" in row


def test_a_killed_sweep_finishes_when_run_again(tmp_path):
    sweep_dir = tmp_path / "sweep"
    command = [
        "-m",
        "seed=1,2",
        "trainer.max_epochs=30",
        "callbacks.early_stopping=null",
        "callbacks.last_checkpoint.min_interval_s=0",
        "logger=csv",
        f"paths.log_dir={tmp_path}",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    # SIGKILL in the middle of the second job, once it has saved a checkpoint.
    kill_once_written(command, "*seed=2,*/checkpoints/last.ckpt", sweep_dir)
    (finished,), (crashed,) = sweep_dir.glob("*seed=1,*"), sweep_dir.glob("*seed=2,*")
    assert read_run(crashed)["status"] == "running" and saved_epoch(crashed) < 29

    epochs_done = saved_epoch(crashed) + 1
    rerun = run_script("train.py", *command)
    assert f"Skipping {finished}" in rerun.stdout
    last = crashed / "checkpoints" / "last.ckpt"
    assert f"Resuming unfinished sweep job from {last}, after {epochs_done} epochs" in rerun.stdout
    assert [run["status"] for run in sweep_runs(sweep_dir)] == ["completed", "completed"]
    assert saved_epoch(crashed) == 29
    assert not list(crashed.glob("checkpoints/*-v*.ckpt"))


def kill_once_written(command: list[str], pattern: str, sweep_dir: Path) -> None:
    """Start `train.py <command>`; SIGKILL it and its children once `pattern` exists under `sweep_dir`."""
    sweep = subprocess.Popen(
        [sys.executable, "train.py", *command, "extras.print_config=false"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not list(sweep_dir.glob(pattern)):
        assert time.monotonic() < deadline and sweep.poll() is None, f"{pattern} was never written"
        time.sleep(0.05)
    os.killpg(sweep.pid, signal.SIGKILL)
    sweep.wait()


def test_a_killed_sweep_job_without_last_ckpt_starts_over_and_says_so(tmp_path):
    sweep_dir = tmp_path / "sweep"
    command = [
        "-m",
        "seed=1",
        "trainer.max_epochs=30",
        "callbacks.early_stopping=null",
        "callbacks.last_checkpoint.min_interval_s=600",  # no last.ckpt before the run ends
        f"paths.log_dir={tmp_path}",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    kill_once_written(command, "*/checkpoints/epoch_*.ckpt", sweep_dir)
    (job,) = sweep_dir.glob("*seed=1*")
    dead = sorted(path.name for path in (job / "checkpoints").iterdir())
    assert read_run(job)["status"] == "running" and "last.ckpt" not in dead

    rerun = run_script("train.py", *command)
    assert (
        f"Starting sweep job {job} over: its earlier attempt (running) left no checkpoints/last.ckpt"
        in rerun.stdout
    )
    assert f"Removed the checkpoints the dead attempt wrote: {', '.join(dead)}" in rerun.stdout
    run = read_run(job)
    assert run["status"] == "completed" and len(run["segments"]) == 1
    # The new attempt's best checkpoint and last.ckpt, nothing of the dead one beside them.
    assert sorted(path.name for path in (job / "checkpoints").iterdir()) == sorted(
        [Path(run["best_checkpoint"]).name, "last.ckpt"]
    )


def test_resuming_removes_the_checkpoints_written_after_last_ckpt(tmp_path):
    run_dir = tmp_path / "run"
    common = ["debug=limit", EXTENDABLE, f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *common, "trainer.max_epochs=2")
    # What an attempt that died after last.ckpt leaves: a checkpoint of a later epoch, written later.
    stale = run_dir / "checkpoints" / "epoch_007.ckpt"
    shutil.copy(run_dir / "checkpoints" / "last.ckpt", stale)
    resumed = run_script("train.py", *common, "trainer.max_epochs=3", "ckpt_path=last")
    assert "Removed the checkpoints the dead attempt wrote: epoch_007.ckpt" in resumed.stdout
    assert not stale.exists() and not list(run_dir.glob("checkpoints/*-v*.ckpt"))
    assert read_run(run_dir)["status"] == "completed" and saved_epoch(run_dir) == 2


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    # A learning rate this large makes the loss or the weights overflow in the second epoch.
    run_dir = tmp_path / "exploding"
    overrides = [
        "debug=limit",
        "trainer.deterministic=true",
        "model/optimizer=sgd",
        "model.optimizer.lr=1e5",
        "callbacks.last_checkpoint.min_interval_s=0",  # last.ckpt after the first, good, epoch
    ]
    result = run_script("train.py", *overrides, f"hydra.run.dir={run_dir}", check=False)
    assert result.returncode != 0
    run = read_run(run_dir)
    assert run["status"] == "failed"
    assert re.search(
        r"training loss is not finite at step \d+ \(epoch 1, batch \d+\); the last finite", run["error"]
    ) or ("weights are not finite at the end of epoch 1" in run["error"]), run["error"]
    weights = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert all(torch.isfinite(tensor).all() for tensor in weights.values())


def test_the_majority_baseline_predicts_the_most_frequent_training_class(make_config):
    cfg = make_config(
        "model=majority", "debug=limit", "trainer.limit_train_batches=1.0", "trainer.limit_test_batches=1.0"
    )
    metrics = train(cfg).metrics
    datamodule = instantiate(cfg.data)
    datamodule.setup()
    majority = torch.bincount(datamodule.train_set.tensors[1]).argmax()
    test_labels = datamodule.test_set.tensors[1]
    assert metrics["test/acc"] == pytest.approx((test_labels == majority).float().mean().item())


def test_the_learning_rate_finder_leaves_a_plot_and_a_suggestion(tmp_path):
    run_dir = tmp_path / "lr_find"
    result = run_script("train.py", "debug=lr_find", f"hydra.run.dir={run_dir}")
    suggestion = re.search(
        r"suggested lr ([0-9.e-]+), plot in (\S+); use it with model.optimizer.lr=", result.stdout
    )
    assert suggestion and Path(suggestion.group(2)) == run_dir / "lr_find.png"
    assert (run_dir / "lr_find.png").stat().st_size > 0 and 1e-6 <= float(suggestion.group(1)) <= 1.0
    assert read_run(run_dir)["status"] == "completed"


def test_the_batch_size_finder_reports_the_batch_size_it_trains_with(tmp_path):
    result = run_script("train.py", "debug=bs_find", f"hydra.run.dir={tmp_path / 'bs_find'}")
    assert re.search(r"continue with full run using batch size \d+", result.stdout)


def test_the_baselines_train_and_one_is_named_the_baseline_of_a_report(tmp_path):
    sweep = ["-m", "model=majority,linear", "seed=1,2", "debug=limit", f"paths.log_dir={tmp_path}"]
    run_script("train.py", *sweep)
    (sweep_dir,) = (tmp_path / "debug" / "multiruns").iterdir()
    report = ["--baseline", "model=majority", "--out", str(tmp_path / "report")]
    result = run_script("report.py", str(sweep_dir), *report)
    assert "| model=majority (baseline) | 2 | 0 |" in result.stdout, result.stdout
    assert "| model=linear | 2 | 0 |" in result.stdout


@pytest.mark.parametrize("script", ["train.py", "eval.py"])
@pytest.mark.parametrize("flag", ["--cfg job", "--help"])
def test_help_and_cfg_job_import_no_torch_lightning_wandb_or_optuna(script, flag):
    # optuna: --help imports every installed Hydra plugin, the project's Optuna sweeper too.
    probe = (
        f"import runpy, sys; sys.argv = ['{script}', *{flag.split()!r}]\n"
        f"try: runpy.run_path('{script}', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "heavy = {'torch', 'lightning', 'wandb', 'optuna'}\n"
        "print('heavy:', sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stdout
    if flag == "--help":
        # Every config group with its options, read from configs/.
        for group in ("data", "model", "model/optimizer", "trainer", "callbacks", "logger", "debug"):
            assert f"  {group}: {', '.join(config_options(group))}" in result.stdout
    else:
        assert "_target_:" in result.stdout


def installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def listed_options(help_text: str, group: str) -> list[str]:
    (line,) = [line for line in help_text.splitlines() if line.startswith(f"  {group}: ")]
    return line.split(": ", 1)[1].split(", ")


@pytest.mark.parametrize("script", ["train.py", "eval.py"])
def test_help_lists_the_installed_launchers_and_sweepers_beside_the_projects_own(script):
    result = subprocess.run(
        [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    launchers = listed_options(result.stdout, "hydra/launcher")
    sweepers = listed_options(result.stdout, "hydra/sweeper")
    assert launchers == sorted(set(launchers)) and sweepers == sorted(set(sweepers)), result.stdout
    # Hydra's own, the joblib plugin the project depends on, and configs/hydra/launcher/*.yaml.
    assert {"basic", "joblib", *config_options("hydra/launcher")} <= set(launchers)
    assert "basic" in sweepers
    # A plugin's options are listed exactly when the plugin is installed, whatever the project uses.
    assert ("submitit_slurm" in launchers) == installed("hydra-submitit-launcher")
    assert ("optuna" in sweepers) == installed("hydra-optuna-sweeper")
    if config_options("hparams_search"):  # the project's own Optuna sweeper (src/hydra_plugins/)
        assert "{{ cookiecutter.package_name }}_optuna" in sweepers


def test_help_into_a_closed_pipe_ends_quietly():
    """`python train.py --help | head -3`: the reader closes the pipe before all help is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    result = subprocess.run(
        [sys.executable, "train.py", "--help"],
        cwd=ROOT,
        stdout=write_end,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    os.close(write_end)
    assert result.returncode == 0 and result.stderr == b"", result.stderr.decode()[-2000:]


def test_resuming_another_runs_checkpoint_under_another_model_is_refused(tmp_path):
    trained = tmp_path / "linear"
    run_script("train.py", "debug=limit", "model=linear", f"hydra.run.dir={trained}")
    checkpoint = trained / "checkpoints" / "last.ckpt"
    result = run_script(
        "train.py", "debug=limit", f"ckpt_path={checkpoint}", f"hydra.run.dir={tmp_path / 'mlp'}", check=False
    )
    assert result.returncode != 0 and result.stderr.strip().splitlines() == [
        f"Error: ckpt_path={checkpoint}: written by a run with model=linear, this run has model=mlp: "
        "give model=linear to resume it (HYDRA_FULL_ERROR=1 shows the traceback)"
    ]
