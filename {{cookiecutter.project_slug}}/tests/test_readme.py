"""Every `python train.py ...` example in the README composes, and its recipe for a new data set
trains: the README cannot drift from the code."""

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, config_options, python_path, read_run
from omegaconf import OmegaConf

EXAMPLES = sorted(set(re.findall(r"python train\.py([^`\n#|]*)", (ROOT / "README.md").read_text())))
# Flags of the command line, not config overrides.
FLAGS = {"-m", "--multirun", "--cfg", "job", "--help", "..."}


def first_job(example: str) -> list[str]:
    """The overrides of the example's first job: `seed=1,2,3` under `-m` becomes `seed=1`."""
    args = shlex.split(example)
    sweep = "-m" in args or "--multirun" in args
    overrides = [arg for arg in args if arg not in FLAGS and "<" not in arg]
    return [first_value(arg) if sweep else arg for arg in overrides]


def first_value(override: str) -> str:
    """`seed=1,2,3` -> `seed=1`; `experiment=glob(ablation_*)` -> the first matching option."""
    key, _, value = override.partition("=")
    pattern = re.fullmatch(r"glob\((.*)\)", value)
    if pattern:
        return f"{key}={fnmatch.filter(config_options(key), pattern.group(1))[0]}"
    return f"{key}={value.split(',')[0]}" if not value.startswith("[") else override


@pytest.mark.parametrize("example", EXAMPLES, ids=str.strip)
def test_readme_example_composes(make_config, example):
    assert "_target_" in make_config(*first_job(example)).model


def test_readme_has_examples():
    assert len(EXAMPLES) >= 15


def readme_files() -> dict[str, str]:
    """The code blocks of the README whose first line names a project file: `# <path>`."""
    readme = (ROOT / "README.md").read_text()
    return dict(re.findall(r"```(?:python|yaml)\n# ((?:src|configs)/\S+)\n(.*?)```", readme, re.S))


def project_with_the_readme_data_set(tmp_path: Path) -> Path:
    """A copy of the project with the README's `.py` and `.yaml` files for new data sets written into it
    (breast cancer, classification; diabetes, regression)."""
    files = readme_files()
    assert sorted(Path(path).suffix for path in files) == [".py", ".py", ".yaml", ".yaml"]
    project = tmp_path / "project"
    project.mkdir()
    for part in ("train.py", "report.py", "configs", "src"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, project / part)
    for path, code in files.items():
        (project / path).write_text(code)
    return project


def run_in(project: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, script, *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": python_path(project / "src"), "WANDB_MODE": "offline"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_the_readme_recipe_adds_a_data_set_with_one_py_and_one_yaml(tmp_path):
    project = project_with_the_readme_data_set(tmp_path)
    run_dir = tmp_path / "run"
    run_in(
        project,
        "train.py",
        "data=breast_cancer",
        "trainer.max_epochs=3",
        "logger=csv",
        "extras.print_config=false",
        f"hydra.run.dir={run_dir}",
    )
    run = read_run(run_dir)
    assert run["status"] == "completed" and run["metrics"]["test/acc"] > 0.85


def test_the_readme_data_set_cross_validates_without_a_line_for_it(tmp_path):
    """k-fold, split seed and leakage check come from the base class and base/in_memory.yaml."""
    project = project_with_the_readme_data_set(tmp_path)
    sweep_dir = tmp_path / "kfold"
    run_in(
        project,
        "train.py",
        "-m",
        "data=breast_cancer",
        "data.num_folds=3",
        "data.fold=0,1,2",
        "debug=limit",
        "extras.print_config=false",
        f"hydra.sweep.dir={sweep_dir}",
        f"paths.log_dir={tmp_path}",
    )
    runs = [read_run(path.parent) for path in sorted(sweep_dir.glob("*/run.json"))]
    assert sorted(next(o for o in run["overrides"] if o.startswith("data.fold=")) for run in runs) == [
        "data.fold=0",
        "data.fold=1",
        "data.fold=2",
    ]
    assert all(run["status"] == "completed" for run in runs)
    # Each fold of the 569 tumours: 86 tested (15 %), 161 validated (a third of the other 483).
    logs = [log.read_text() for log in sweep_dir.glob("*/*.log")]
    assert len(logs) == 3 and all("val: 161 samples" in log and "test: 86 samples" in log for log in logs)
    run_in(project, "report.py", str(sweep_dir), "--metric", "test/acc")
    report = pd.read_csv(sweep_dir / "report.csv")
    # The folds pool into one group: n = 3 runs, nothing failed.
    assert len(report) == 1 and report.loc[0, "n"] == 3 and report.loc[0, "failed"] == 0
    assert "data.fold" not in report.loc[0, "group"]


def test_the_readme_regression_data_set_trains_on_its_own_metric(tmp_path):
    """Its yaml chooses the task: RegressorModule, checkpoints and early stopping on val/r2."""
    project = project_with_the_readme_data_set(tmp_path)
    run_dir = tmp_path / "run"
    run_in(
        project,
        "train.py",
        "data=diabetes",
        "model=linear",
        "model.optimizer.lr=0.1",
        "trainer.max_epochs=40",
        "logger=csv",
        "extras.print_config=false",
        f"hydra.run.dir={run_dir}",
    )
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert config.model._target_.endswith(".RegressorModule") and config.monitor == "val/r2"
    run = read_run(run_dir)
    assert run["status"] == "completed" and "val/r2_best" in run["metrics"]
    # Least squares (scikit-learn's LinearRegression) reaches R² 0.23 on this test split (0.52 on val).
    assert run["metrics"]["test/r2"] > 0.15 and Path(run["best_checkpoint"]).name.startswith("epoch_")
