"""Every answer of cookiecutter.json bakes a clean project, and each changes what it should."""

import tomllib

import pytest
import yaml
from conftest import BIN, CHOICES, hydra14_pins, run

EVERY_ANSWER = [(key, value) for key, values in CHOICES.items() for value in values]

# The default bake, file by file: a new file must be added here on purpose.
DEFAULT_FILES = """
.env.example
.github/workflows/ci.yaml
.gitignore
.pre-commit-config.yaml
LICENSE
Makefile
README.md
configs/callbacks/confusion_matrix.yaml
configs/callbacks/default.yaml
configs/callbacks/early_stopping.yaml
configs/callbacks/epoch_history.yaml
configs/callbacks/last_checkpoint.yaml
configs/callbacks/lr_monitor.yaml
configs/callbacks/model_checkpoint.yaml
configs/callbacks/model_summary.yaml
configs/callbacks/non_finite_loss.yaml
configs/callbacks/none.yaml
configs/callbacks/optuna_pruning.yaml
configs/callbacks/prediction_grid.yaml
configs/callbacks/progress_bar.yaml
configs/callbacks/random_state.yaml
configs/callbacks/training_stats.yaml
configs/callbacks/visualise.yaml
configs/data/base/in_memory.yaml
configs/data/base/official_split.yaml
configs/data/cifar10.yaml
configs/data/csv.yaml
configs/data/digits.yaml
configs/data/fashion_mnist.yaml
configs/data/mnist.yaml
configs/debug/anomaly.yaml
configs/debug/bs_find.yaml
configs/debug/default.yaml
configs/debug/fdr.yaml
configs/debug/limit.yaml
configs/debug/lr_find.yaml
configs/debug/overfit.yaml
configs/debug/profiler.yaml
configs/eval.yaml
configs/experiment/ablation_baseline.yaml
configs/experiment/ablation_no_batchnorm.yaml
configs/experiment/ablation_no_dropout.yaml
configs/experiment/ablation_sgd.yaml
configs/experiment/digits_cnn.yaml
configs/extras/default.yaml
configs/hparams_search/mlp_optuna.yaml
configs/hydra/default.yaml
configs/hydra/launcher/slurm.yaml
configs/hydra/sweeper/pruner/hyperband.yaml
configs/hydra/sweeper/pruner/median.yaml
configs/hydra/sweeper/pruner/none.yaml
configs/hydra/sweeper/pruner/successive_halving.yaml
configs/local/README.md
configs/local/slurm_cluster.example.yaml
configs/logger/csv.yaml
configs/logger/many.yaml
configs/logger/mlflow.yaml
configs/logger/tensorboard.yaml
configs/logger/wandb.yaml
configs/model/cnn.yaml
configs/model/linear.yaml
configs/model/majority.yaml
configs/model/mlp.yaml
configs/model/resnet.yaml
configs/model/optimizer/adamw.yaml
configs/model/optimizer/sgd.yaml
configs/model/scheduler/cosine.yaml
configs/model/scheduler/plateau.yaml
configs/paths/default.yaml
configs/task/classification.yaml
configs/task/regression.yaml
configs/train.yaml
configs/trainer/cpu.yaml
configs/trainer/ddp.yaml
configs/trainer/ddp_sim.yaml
configs/trainer/default.yaml
configs/trainer/gpu.yaml
configs/trainer/mps.yaml
eval.py
examples/wine.csv
pyproject.toml
report.py
src/PKG/__init__.py
src/PKG/callbacks/__init__.py
src/PKG/callbacks/confusion_matrix.py
src/PKG/callbacks/epoch_history.py
src/PKG/callbacks/last_checkpoint.py
src/PKG/callbacks/lr_finder.py
src/PKG/callbacks/non_finite_loss.py
src/PKG/callbacks/optuna_pruning.py
src/PKG/callbacks/overfit_verdict.py
src/PKG/callbacks/prediction_grid.py
src/PKG/callbacks/progress_bar.py
src/PKG/callbacks/random_state.py
src/PKG/callbacks/training_stats.py
src/PKG/cli/__init__.py
src/PKG/cli/errors.py
src/PKG/cli/help.py
src/PKG/cli/hydra_versions.py
src/PKG/cli/overrides.py
src/PKG/cli/pasted_paths.py
src/PKG/cli/value_checks.py
src/PKG/data/__init__.py
src/PKG/data/cifar10_datamodule.py
src/PKG/data/contract.py
src/PKG/data/digits_datamodule.py
src/PKG/data/fashion_mnist_datamodule.py
src/PKG/data/fetch/__init__.py
src/PKG/data/fetch/download.py
src/PKG/data/fetch/unpack.py
src/PKG/data/formats/__init__.py
src/PKG/data/formats/cifar.py
src/PKG/data/formats/idx.py
src/PKG/data/formats/table.py
src/PKG/data/in_memory_datamodule.py
src/PKG/data/loading.py
src/PKG/data/mnist_datamodule.py
src/PKG/data/official_split_datamodule.py
src/PKG/data/splits.py
src/PKG/data/table_datamodule.py
src/PKG/data/transforms/__init__.py
src/PKG/data/transforms/batch_augmentation.py
src/PKG/data/transforms/table_preprocessing.py
src/PKG/launch/__init__.py
src/PKG/launch/ddp_ranks.py
src/PKG/launch/rank_hosts.py
src/PKG/launch/ranks.py
src/PKG/launch/same_config_on_all_ranks.py
src/PKG/launch/slurm.py
src/PKG/launch/slurm_jobs.py
src/PKG/launch/slurm_shape.py
src/PKG/loggers/__init__.py
src/PKG/loggers/config_logging.py
src/PKG/loggers/figures.py
src/PKG/loggers/mlflow_logger.py
src/PKG/loggers/teardown.py
src/PKG/loggers/wandb_logger.py
src/PKG/models/__init__.py
src/PKG/models/classifier_module.py
src/PKG/models/for_data.py
src/PKG/models/majority_module.py
src/PKG/models/regressor_module.py
src/PKG/models/supervised_module.py
src/PKG/models/weighted_mean.py
src/PKG/nets/__init__.py
src/PKG/nets/class_prior.py
src/PKG/nets/cnn.py
src/PKG/nets/linear.py
src/PKG/nets/mlp.py
src/PKG/nets/resnet.py
src/PKG/reporting/__init__.py
src/PKG/reporting/comparison.py
src/PKG/reporting/design.py
src/PKG/reporting/html_page.py
src/PKG/reporting/plots.py
src/PKG/reporting/power.py
src/PKG/reporting/runs.py
src/PKG/reporting/statistics.py
src/PKG/reporting/stochastic_order.py
src/PKG/reporting/tables.py
src/PKG/run/__init__.py
src/PKG/run/atomic_checkpoint_io.py
src/PKG/run/build.py
src/PKG/run/checkpoints.py
src/PKG/run/context.py
src/PKG/run/directory.py
src/PKG/run/manifest.py
src/PKG/run/metrics_kept.py
src/PKG/run/no_profiler.py
src/PKG/run/quiet_console.py
src/PKG/run/record.py
src/PKG/run/settings.py
src/PKG/run/trusted_targets.py
src/PKG/search/__init__.py
src/PKG/search/job_trial.py
src/PKG/search/space.py
src/PKG/search/storage.py
src/PKG/search/study_search.py
src/PKG/search/sweeper_lease.py
src/hydra_plugins/PKG_search/__init__.py
src/hydra_plugins/PKG_search/study_sweeper.py
src/hydra_plugins/PKG_slurm/__init__.py
src/hydra_plugins/PKG_slurm/slurm_launcher.py
tests/conftest.py
tests/host_syncs.py
tests/network_checks.py
tests/official_format_files.py
tests/preemption.py
tests/slurm_cluster.py
tests/slurm_sweeps.py
tests/test_bad_inputs.py
tests/test_configs.py
tests/test_datamodule.py
tests/test_ddp.py
tests/test_epoch_history.py
tests/test_gpu_ready_switches.py
tests/test_host_syncs.py
tests/test_hparams_search.py
tests/test_image_datasets.py
tests/test_last_checkpoint.py
tests/test_loggers.py
tests/test_multinode.py
tests/test_nets.py
tests/test_non_finite_loss.py
tests/test_pasted_paths.py
tests/test_progress_bar.py
tests/test_quiet_console.py
tests/test_readme.py
tests/test_report.py
tests/test_report_html.py
tests/test_reproducibility.py
tests/test_secrets.py
tests/test_slurm.py
tests/test_table_data.py
tests/test_train.py
tests/test_trusted_targets.py
tests/test_visualisation.py
tests/two_host_cluster.py
train.py
""".split()


def files_of(project) -> set[str]:
    """The project's files, without those of its git repository (git_init)."""
    paths = (path.relative_to(project) for path in project.rglob("*") if path.is_file())
    return {str(path) for path in paths if path.parts[0] != ".git"}


def dependencies(project) -> list[str]:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]


def test_default_bake_has_exactly_the_expected_files(bake):
    project = bake()
    assert files_of(project) == {f.replace("PKG", "digits_research") for f in DEFAULT_FILES}


@pytest.mark.parametrize(("key", "value"), EVERY_ANSWER, ids=[f"{k}={v}" for k, v in EVERY_ANSWER])
def test_every_answer_bakes_a_clean_project(bake, key, value):
    project = bake(**{key: value})
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(errors="ignore")
            assert "{{" not in text and "{%" not in text, f"unrendered Jinja in {path.relative_to(project)}"
    run([BIN / "ruff", "check", "."], project)
    run([BIN / "ruff", "format", "--check", "."], project)
    # The configs compose for this answer (without training: --cfg needs no torch).
    composed = run([BIN / "python", "train.py", "--cfg", "job"], project, PYTHONPATH="src")
    assert "_target_" in composed.stdout


def test_python_version_sets_requirement_ruff_target_and_ci(bake):
    project = bake(python_version="3.13")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">=3.13"
    assert pyproject["tool"]["ruff"]["target-version"] == "py313"
    workflow = yaml.safe_load((project / ".github/workflows/ci.yaml").read_text())
    assert workflow["jobs"]["test"]["steps"][1]["with"]["python-version"] == "3.13"


@pytest.mark.parametrize(
    ("licence", "first_line"),
    [("MIT", "MIT License"), ("BSD-3-Clause", "BSD 3-Clause License"), ("Apache-2.0", "Apache License")],
)
def test_licence_file_and_metadata(bake, licence, first_line):
    project = bake(license=licence, author_name="Ada Lovelace")
    text = (project / "LICENSE").read_text()
    assert text.strip().startswith(first_line) and "Ada Lovelace" in text
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["license"] == licence


def test_no_licence_means_no_file_and_no_metadata(bake):
    project = bake(license="none")
    assert not (project / "LICENSE").exists()
    assert "license" not in tomllib.loads((project / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("logger", CHOICES["default_logger"])
def test_default_logger_is_composed_and_installed(bake, logger):
    project = bake(default_logger=logger)
    defaults = yaml.safe_load((project / "configs/train.yaml").read_text())["defaults"]
    assert {"logger": logger} in defaults
    composed = run([BIN / "python", "train.py", "--cfg", "job", "-p", "logger"], project, PYTHONPATH="src")
    assert f"{logger}:" in composed.stdout
    needs = {"tensorboard": "tensorboard", "mlflow": "mlflow"}
    if logger in needs:
        assert any(dep.startswith(needs[logger]) for dep in dependencies(project))


def test_slurm_option(bake):
    with_slurm, without = bake(include_slurm="yes"), bake(include_slurm="no", project_name="No Slurm")
    assert any(dep.startswith("hydra-submitit-launcher") for dep in dependencies(with_slurm))
    launcher = run(
        [BIN / "python", "train.py", "hydra/launcher=slurm", "--cfg", "hydra", "-p", "hydra.launcher"],
        with_slurm,
        PYTHONPATH="src",
    )
    assert "SlurmLauncher" in launcher.stdout and "tasks_per_node" in launcher.stdout
    # Tasks and nodes follow the trainer: srun starts one task per DDP rank on each machine.
    multi_node = run(
        [
            BIN / "python",
            "train.py",
            "hydra/launcher=slurm",
            "trainer=ddp",
            "trainer.devices=4",
            "trainer.num_nodes=2",
            "--cfg",
            "all",
            "--resolve",
            "-p",
            "hydra.launcher",
        ],
        with_slurm,
        PYTHONPATH="src",
    )
    assert "tasks_per_node: 4" in multi_node.stdout and "nodes: 2" in multi_node.stdout
    assert not any(dep.startswith("hydra-submitit-launcher") for dep in dependencies(without))
    assert not (without / "configs/hydra/launcher").exists()
    assert not (without / "configs/local/slurm_cluster.example.yaml").exists()
    assert not (without / "src/hydra_plugins/no_slurm_slurm").exists()
    assert not (without / "src/no_slurm/launch/slurm_jobs.py").exists()
    assert not (without / "tests/test_multinode.py").exists()
    assert "hydra/launcher=slurm" not in (without / "README.md").read_text()


def test_optuna_option(bake):
    with_optuna, without = bake(include_optuna="yes"), bake(include_optuna="no", project_name="No Optuna")
    assert any(dep.startswith("optuna>=") for dep in dependencies(with_optuna))
    # No sweeper plugin that holds Optuna back, nor the SQLAlchemy pin old Optuna needed.
    old_pins = ("hydra-optuna-sweeper", "sqlalchemy")
    assert not any(dep.startswith(old_pins) for dep in dependencies(with_optuna))
    sweeper = run(
        [BIN / "python", "train.py", "hparams_search=mlp_optuna", "--cfg", "hydra", "-p", "hydra.sweeper"],
        with_optuna,
        PYTHONPATH="src",
    )
    assert "StudySweeper" in sweeper.stdout and "model.optimizer.lr" in sweeper.stdout
    assert "MedianPruner" in sweeper.stdout
    assert not any(dep.startswith("optuna") for dep in dependencies(without))
    assert not (without / "configs/hparams_search").exists()
    assert not (without / "configs/hydra/sweeper").exists()
    assert not (without / "configs/callbacks/optuna_pruning.yaml").exists()
    assert not (without / "src/hydra_plugins/no_optuna_search").exists()
    assert not (without / "src/no_optuna/search").exists()
    assert not (without / "src/no_optuna/callbacks/optuna_pruning.py").exists()
    assert not (without / "tests/test_hparams_search.py").exists()
    # The SLURM launcher (include_slurm=yes) is a Hydra plugin too: still a namespace package.
    assert "namespaces" in (without / "pyproject.toml").read_text()
    assert "hparams_search" not in (without / "configs/train.yaml").read_text()
    assert "hparams_search" not in (without / "README.md").read_text()


def test_github_actions_option(bake):
    with_ci, without = (
        bake(include_github_actions="yes"),
        bake(include_github_actions="no", project_name="No CI"),
    )
    workflow = yaml.safe_load((with_ci / ".github/workflows/ci.yaml").read_text())
    runs = [step.get("run") for step in workflow["jobs"]["test"]["steps"]]
    assert "make test" in runs
    # As root after it: the two-host SLURM cluster's network namespaces (include_slurm=yes).
    assert "sudo" in runs[-1] and "tests/test_multinode.py" in runs[-1]
    assert not (without / ".github").exists()


def hydra14_line(project) -> list[str]:
    """The packages of the baked Makefile's `HYDRA14 ?= ...` (what `make test-hydra14` installs)."""
    lines = (project / "Makefile").read_text().splitlines()
    (line,) = [line for line in lines if line.startswith("HYDRA14 ?=")]
    return sorted(line.removeprefix("HYDRA14 ?=").split())


def test_make_test_hydra14_installs_the_versions_the_template_tests(bake):
    pins = sorted(f"{name}=={version}" for name, version in hydra14_pins().items())
    assert hydra14_line(bake()) == pins
    # Without SLURM there is no submitit launcher to replace.
    no_slurm = bake(include_slurm="no", project_name="No Slurm")
    assert hydra14_line(no_slurm) == [pin for pin in pins if not pin.startswith("hydra-submitit")]
