"""Who this process is: its rank in its job, and whether it runs as one job of a sweep."""

import os

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode


def process_rank() -> int:
    """This process's rank in its job: 0 for a single process and for the one owning the files."""
    for var in ("RANK", "LOCAL_RANK", "SLURM_PROCID"):
        if var in os.environ:
            return int(os.environ[var])
    return 0


def is_rank_zero() -> bool:
    """True in the process that owns the run's files (DDP ranks and srun tasks > 0 are not)."""
    return process_rank() == 0


def in_sweep() -> bool:
    return HydraConfig.get().mode == RunMode.MULTIRUN
