"""The model config built for a data module: its input shape, its outputs and the task's LightningModule."""

from hydra.utils import instantiate
from omegaconf import DictConfig

from .classifier_module import ClassifierModule
from .regressor_module import RegressorModule


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def model_for_data(model_cfg: DictConfig, datamodule):
    """`model=mlp` on any data: the shapes come from the data module, never typed twice.

    The model configs name a ClassifierModule. When the data module's `task` is "regression"
    (`data=csv data.task=regression`), the same network, optimiser and scheduler go into a
    RegressorModule instead, whose loss and metrics fit the task (MSE loss; MSE, MAE, R²).
    """
    task = getattr(datamodule, "task", "classification")
    if task == "classification":
        return instantiate(model_cfg, input_shape=datamodule.input_shape, num_classes=datamodule.num_classes)
    if task != "regression":
        raise ValueError(f"data module task {task!r}: use 'classification' or 'regression'")
    if model_cfg.get("_target_") != _path(ClassifierModule):
        raise ValueError(
            f"model with _target_ {model_cfg.get('_target_')} is for classification only; for regression "
            f"use a model built on a network (e.g. model=mlp or model=linear)"
        )
    return instantiate(
        model_cfg,
        _target_=_path(RegressorModule),
        input_shape=datamodule.input_shape,
        num_targets=datamodule.num_targets,
        # The training split's statistics: the network learns standardised targets.
        **getattr(datamodule, "target_statistics", {}),
    )
