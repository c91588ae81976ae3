"""The model config built for a data module: the input shape and outputs come from its contract."""

from hydra.utils import get_class
from omegaconf import DictConfig

from ..cli.value_checks import ConfigValueError
from ..data.contract import TASKS
from ..run.trusted_targets import instantiate, is_trusted


def model_for_data(model_cfg: DictConfig, datamodule):
    """`model=mlp` on any data: the shapes come from the data module, never typed twice.

    The LightningModule is the one the config names (`configs/task/` sets it for the networks);
    it must learn the task the data holds.
    """
    target = model_cfg["_target_"]
    # get_class imports what it is given: the whitelist that instantiate applies comes first.
    if not is_trusted(target):
        raise ConfigValueError(f"model._target_: {target} is not in run/trusted_targets.py's TRUSTED_TARGETS")
    contract = datamodule.contract
    module = get_class(target)
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
