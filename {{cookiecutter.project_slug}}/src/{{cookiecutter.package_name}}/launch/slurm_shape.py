"""A SLURM job's shape (nodes × tasks per node × GPUs per node) against the trainer's, before submitting.

srun starts one task per DDP rank: `nodes` must be `trainer.num_nodes` and `tasks_per_node` the
ranks Lightning runs on each (`trainer.devices`). When they differ, Lightning fails inside every
rank after the job waited in the queue, or a GPU job gets no GPU; here it fails at once, in one
line, before anything is submitted.
"""

from typing import Any

from omegaconf import DictConfig, ListConfig

from .ddp_ranks import relaunches_command_line

GPU_ACCELERATORS = ("gpu", "cuda")


def devices_per_node(trainer: DictConfig) -> int | None:
    """`trainer.devices` as a count; None when it is left to Lightning (`auto`, -1)."""
    devices = trainer.get("devices", "auto")
    if isinstance(devices, (list, ListConfig)):
        return len(devices)
    if isinstance(devices, str):
        indices = [index for index in devices.split(",") if index.strip()]
        if "," in devices:
            return len(indices)
        devices = int(devices) if devices.strip().isdigit() else None
    return devices if isinstance(devices, int) and devices > 0 else None


def tasks_needed(trainer: DictConfig) -> int | None:
    """Processes per machine srun must start: one per device for DDP, else one."""
    devices = devices_per_node(trainer)
    if devices is None:
        return None
    strategy = trainer.get("strategy", "auto")
    if strategy in (None, "auto") and devices > 1:
        strategy = "ddp"  # what Lightning picks for several devices
    return devices if relaunches_command_line(strategy) else 1


def shape_problems(trainer: DictConfig, launcher: dict[str, Any]) -> list[str]:
    """What in `hydra.launcher` contradicts the `trainer` config of the same job."""
    problems = []
    nodes, num_nodes = launcher.get("nodes"), trainer.get("num_nodes", 1)
    if nodes != num_nodes:
        problems.append(
            f"hydra.launcher.nodes={nodes} but trainer.num_nodes={num_nodes}: set them equal "
            "(nodes follows trainer.num_nodes unless set)"
        )
    tasks, ranks = launcher.get("tasks_per_node"), tasks_needed(trainer)
    if ranks is not None and tasks != ranks:
        problems.append(
            f"hydra.launcher.tasks_per_node={tasks} but trainer.devices={trainer.get('devices')} "
            f"needs {ranks} task(s) per node (srun starts one per DDP rank): set them equal "
            "(tasks_per_node follows trainer.devices unless set)"
        )
    gpus, devices = launcher.get("gpus_per_node"), devices_per_node(trainer)
    if trainer.get("accelerator") in GPU_ACCELERATORS and devices is not None and (gpus or 0) < devices:
        problems.append(
            f"trainer.accelerator={trainer.accelerator} with trainer.devices={devices} but "
            f"hydra.launcher.gpus_per_node={gpus}: SLURM would hide the GPUs; set "
            f"hydra.launcher.gpus_per_node={devices}"
        )
    return problems
