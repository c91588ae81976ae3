"""Configs composed as `python train.py` composes them, with every output in a temporary directory."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

import train  # noqa: F401  (sets PROJECT_ROOT and registers the resolvers the configs use)
from {{ cookiecutter.package_name }}.cli.hydra_versions import version_base
from {{ cookiecutter.package_name }}.run.trusted_targets import instantiate

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
# With a W&B key but no network, wandb.init blocks for about 100 s.
os.environ["WANDB_MODE"] = "offline"


def read_run(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def config_options(group: str) -> list[str]:
    """Every option of a config group, e.g. ["cnn", "linear", "mlp"] for "model"."""
    return sorted(path.stem for path in (CONFIGS / group).glob("*.yaml"))


def compose_config(config_name: str, overrides: list[str], output_dir: Path) -> DictConfig:
    """The task config Hydra would pass to `main`, with its output directory set to `output_dir`."""
    with initialize_config_dir(config_dir=str(CONFIGS), **version_base()):
        cfg = compose(
            config_name, overrides=[*overrides, f"paths.log_dir={output_dir}/logs"], return_hydra_config=True
        )
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(output_dir)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    output_dir.mkdir(parents=True, exist_ok=True)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


@pytest.fixture
def make_config(tmp_path):
    def make(*overrides: str, config_name: str = "train") -> DictConfig:
        return compose_config(config_name, list(overrides), tmp_path / "run")

    return make


# The config tree printed at start would fill the captured output of every test.
QUIET = {"train.py": ["extras.print_config=false"], "eval.py": ["extras.print_config=false"]}


def run_script(
    script: str, *overrides: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `python <script> <overrides>` from the project root, as a user would."""
    result = subprocess.run(
        [sys.executable, script, *overrides, *QUIET.get(script, [])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**(env or os.environ), "WANDB_MODE": "offline"},
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{script} {' '.join(overrides)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def python_path(src: Path) -> str:
    """PYTHONPATH for a script run on a copy of the project: its `src` first, then the caller's (so
    that `make test-hydra14`'s Hydra 1.4 stays first for the scripts too)."""
    return os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])


def copy_of_project(destination: Path) -> Path:
    """The scripts and configs, without logs: a project directory the test may turn into a repo."""
    destination.mkdir(parents=True)
    for name in ("train.py", "eval.py"):
        shutil.copy(ROOT / name, destination / name)
    shutil.copytree(ROOT / "configs", destination / "configs")
    return destination


def fit_on_digits(make_config, callbacks: list, **trainer_args) -> None:
    """The default model on digits (`debug=limit`) in a bare CPU Trainer (no logger, progress bar
    or model summary): for tests of one callback."""
    import lightning as L

    from {{ cookiecutter.package_name }}.models.for_data import model_for_data

    cfg = make_config("debug=limit")
    datamodule = instantiate(cfg.data)
    trainer = L.Trainer(
        callbacks=callbacks,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=1,
        accelerator="cpu",
        **trainer_args,
    )
    trainer.fit(model_for_data(cfg.model, datamodule), datamodule=datamodule)
