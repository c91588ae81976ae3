"""Running under SLURM: stable run directories, requeue detection, and who owns the signals.

Preemption and time limits: submitit (the SLURM launcher) owns the signal. SLURM sends USR2
before the time limit; submitit requeues the job, which then runs again in the same directory
and resumes from its last.ckpt. Lightning's own SLURM requeueing (on SIGUSR1) is switched off,
so that no job is ever requeued twice or checkpointed by two handlers.
"""

import os

# Lightning treats allocations with these job names as interactive shells, not batch jobs.
INTERACTIVE_JOB_NAMES = ("bash", "interactive")


def in_slurm_batch_job() -> bool:
    return "SLURM_JOB_ID" in os.environ and os.environ.get("SLURM_JOB_NAME") not in INTERACTIVE_JOB_NAMES


def slurm_run_name() -> str | None:
    """`slurm-1234` (`slurm-1234_5` for an array task, `slurm-1234.0` for an srun step): the same
    for every rank of the job and after a requeue, which keeps the job's id. None outside a batch
    job; an interactive allocation runs many trainings and keeps timestamped directories."""
    if not in_slurm_batch_job():
        return None
    job_id = os.environ["SLURM_JOB_ID"]
    if "SLURM_ARRAY_TASK_ID" in os.environ:
        job_id = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    step = os.environ.get("SLURM_STEP_ID")
    return f"slurm-{job_id}" + (f".{step}" if step is not None else "")


def requeued_by_slurm() -> bool:
    return int(os.environ.get("SLURM_RESTART_COUNT", 0)) > 0


def slurm_job() -> dict[str, str] | None:
    """The SLURM job a run is part of, for run.json (to find its scheduler logs); None outside."""
    names = {
        "job_id": "SLURM_JOB_ID",
        "array_job_id": "SLURM_ARRAY_JOB_ID",
        "array_task_id": "SLURM_ARRAY_TASK_ID",
        "restart_count": "SLURM_RESTART_COUNT",
        "node_list": "SLURM_JOB_NODELIST",
    }
    if "SLURM_JOB_ID" not in os.environ:
        return None
    return {key: os.environ[var] for key, var in names.items() if var in os.environ}


def slurm_environment():
    """Lightning's SLURM environment without its requeue handler (see above); None outside SLURM."""
    if "SLURM_NTASKS" not in os.environ or not in_slurm_batch_job():
        return None
    from lightning.pytorch.plugins.environments import SLURMEnvironment

    return SLURMEnvironment(auto_requeue=False)


def gpus_per_node(accelerator: str | None, devices) -> int | None:
    """hydra.launcher.gpus_per_node's default: one GPU per rank for a GPU trainer, else none
    (SLURM hides the GPUs a job did not ask for)."""
    if accelerator not in ("gpu", "cuda"):
        return None
    if isinstance(devices, str) and "," in devices:
        return len([index for index in devices.split(",") if index.strip()])
    if isinstance(devices, str) and devices.strip().isdigit():
        return int(devices)
    if isinstance(devices, int) and devices > 0:
        return devices
    return len(devices) if hasattr(devices, "__len__") and not isinstance(devices, str) else None
