"""Install baked projects as a user would, run their own test suites, and train them.

The default bake and one bake per logger; each gets its own package name so that all can be
installed side by side in this environment.
"""

import fcntl
import json
from pathlib import Path

import pytest
from conftest import BIN, CHOICES, TEMPLATE, run

pytestmark = pytest.mark.slow


def install(project: Path) -> None:
    """pip install -e project[dev], offline: every dependency must already be in this environment."""
    # pytest-xdist workers share the environment; pip must not run twice at once in it.
    with open(TEMPLATE / ".pytest_cache_pip.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run(
            [
                BIN / "python",
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-index",
                "--no-build-isolation",
                "-e",
                f"{project}[dev]",
            ],
            project,
        )


def uninstall(project: Path) -> None:
    with open(TEMPLATE / ".pytest_cache_pip.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run([BIN / "python", "-m", "pip", "uninstall", "--quiet", "--yes", project.name], project)


def latest_run(project: Path) -> dict:
    (path,) = sorted((project / "logs/train/runs").glob("*/run.json"))[-1:]
    return json.loads(path.read_text())


@pytest.fixture
def installed(bake):
    projects = []

    def _installed(**answers: str) -> Path:
        project = bake(**answers)
        install(project)
        projects.append(project)
        return project

    yield _installed
    for project in projects:
        uninstall(project)


def test_default_project_passes_its_tests_and_learns_digits(installed):
    project = installed()
    run([BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)

    run([BIN / "python", "train.py"], project)
    trained = latest_run(project)
    assert trained["status"] == "completed"
    assert trained["choices"]["model"] == "mlp" and trained["seed"] == 42
    assert trained["metrics"]["test/acc"] >= 0.95, trained["metrics"]

    summary = run([BIN / "python", TEMPLATE / "scripts/summarise_runs.py", project], project)
    assert "completed: test/acc = " in summary.stdout and str(project / "logs") in summary.stdout


# What each logger leaves behind, relative to the project root.
LOGGER_OUTPUT = {
    "tensorboard": "logs/train/runs/*/tensorboard/events.out.tfevents.*",
    "wandb": "logs/train/runs/*/wandb/offline-run-*",
    "mlflow": "logs/mlflow.db",
}


@pytest.mark.parametrize("logger", sorted(LOGGER_OUTPUT))
def test_project_with_each_default_logger(installed, logger):
    project = installed(default_logger=logger, project_name=f"Digits {logger}")
    # The DDP test needs no logger-specific check; the default bake runs it.
    run([BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not ddp"], project)

    run([BIN / "python", "train.py", "trainer.max_epochs=3"], project)
    trained = latest_run(project)
    assert trained["status"] == "completed" and trained["choices"]["logger"] == logger
    assert trained["metrics"]["test/acc"] > 0.8
    assert list(project.glob(LOGGER_OUTPUT[logger])), f"logger={logger} wrote nothing"


def test_every_logger_answer_is_covered_here():
    assert set(LOGGER_OUTPUT) == set(CHOICES["default_logger"]) - {"csv"}, "csv is the default bake's"
