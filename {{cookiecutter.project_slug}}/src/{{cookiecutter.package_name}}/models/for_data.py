"""The model config built for a data module: the input shape and outputs come from its contract."""

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig

from ..data.contract import TASKS


def model_for_data(model_cfg: DictConfig, datamodule):
    """`model=mlp` on any data: the shapes come from the data module, never typed twice.

    The LightningModule is the one the config names (`configs/task/` sets it for the networks);
    it must learn the task the data holds.
    """
    contract = datamodule.contract
    module = get_class(model_cfg["_target_"])
    if getattr(module, "task", None) not in TASKS:
        raise ValueError(f'{module.__name__} declares no task: add task = "classification" (or "regression")')
    if module.task != contract.task:
        # A baseline such as model=majority brings its own module; the network models take the task's.
        fix = f"use task={contract.task}" if "net" in model_cfg else "use a model with a network (model=mlp)"
        raise ValueError(
            f"{module.__name__} learns {module.task}, but {type(datamodule).__name__} holds {contract.task} "
            f"targets: {fix}"
        )
    return instantiate(model_cfg, **contract.model_arguments())
