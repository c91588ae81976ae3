"""Every option of every config group composes, and everything with a `_target_` instantiates."""

import lightning as L
import pytest
import torch
from conftest import config_options
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.run.build import build_all
from {{ cookiecutter.package_name }}.run.trusted_targets import instantiate

# Keys a user sets without `+`, so they must exist in the composed config (their value may be null).
OVERRIDABLE_KEYS = [
    "seed",
    "ckpt_path",
    "tags",
    "trainer.max_epochs",
    "trainer.precision",
    "trainer.accumulate_grad_batches",
    "trainer.gradient_clip_val",
    "trainer.devices",
    "data.batch_size",
    "data.num_workers",
    "model.optimizer.lr",
]


@pytest.mark.parametrize("key", OVERRIDABLE_KEYS)
def test_train_config_has_the_keys_users_override(make_config, key):
    missing = object()
    assert OmegaConf.select(make_config(), key, default=missing) is not missing


def test_eval_config_composes(make_config):
    cfg = make_config("ckpt_path=some.ckpt", config_name="eval")
    assert cfg.task_name == "eval" and cfg.ckpt_path == "some.ckpt"


@pytest.mark.parametrize("option", config_options("data"))
def test_data_option_instantiates(make_config, option):
    datamodule = instantiate(make_config(f"data={option}").data)
    assert isinstance(datamodule, L.LightningDataModule)
    assert len(datamodule.contract.input_shape) >= 1 and datamodule.contract.num_outputs >= 1


@pytest.mark.parametrize(
    ("task", "module", "monitor"),
    [("classification", "ClassifierModule", "val/acc"), ("regression", "RegressorModule", "val/r2")],
)
def test_the_task_names_the_module_that_is_built_and_the_metric_followed(make_config, task, module, monitor):
    cfg = make_config("data=csv", f"task={task}")
    assert cfg.model._target_.endswith(f".{module}") and cfg.monitor == monitor
    assert cfg.data.task == task and cfg.callbacks.model_checkpoint.monitor == monitor
    assert cfg.optimized_metric == f"{monitor}_best"


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_baseline_keeps_its_own_module_whatever_the_task(make_config, task):
    assert make_config("model=majority", f"task={task}").model._target_.endswith(".MajorityClassModule")


@pytest.mark.parametrize("option", config_options("model"))
def test_model_option_instantiates(make_config, option):
    cfg = make_config(f"model={option}")
    model = instantiate(cfg.model, input_shape=(1, 8, 8), num_outputs=10)
    assert isinstance(model, L.LightningModule)
    assert model(torch.zeros(4, 1, 8, 8)).shape == (4, 10)


@pytest.mark.parametrize("option", config_options("callbacks"))
def test_callbacks_option_instantiates(make_config, option):
    callbacks = build_all(make_config(f"callbacks={option}"), "callbacks")
    assert all(isinstance(callback, L.Callback) for callback in callbacks)
    assert (option == "none") == (callbacks == [])


@pytest.mark.parametrize("option", config_options("logger"))
def test_logger_option_instantiates(make_config, option):
    loggers = build_all(make_config(f"logger={option}"), "logger")
    assert loggers and all(hasattr(logger, "log_metrics") for logger in loggers)


@pytest.mark.parametrize("option", config_options("trainer"))
def test_trainer_option_instantiates(make_config, option):
    cfg = make_config(f"trainer={option}")
    hardware = {"gpu": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if not hardware.get(cfg.trainer.accelerator, True):
        # The config is checked on the CPU: only the accelerator itself is missing here.
        cfg.trainer.accelerator = "cpu"
    trainer = instantiate(cfg.trainer)
    assert isinstance(trainer, L.Trainer)


@pytest.mark.parametrize("option", [o for o in config_options("debug") if o != "default"])
def test_debug_option_composes(make_config, option):
    cfg = make_config(f"debug={option}")
    assert cfg.task_name == "debug" and cfg.trainer.accelerator == "cpu"


@pytest.mark.parametrize("option", config_options("experiment"))
def test_experiment_option_composes(make_config, option):
    cfg = make_config(f"experiment={option}")
    assert cfg.tags != ["dev"], "an experiment should tag its runs"
