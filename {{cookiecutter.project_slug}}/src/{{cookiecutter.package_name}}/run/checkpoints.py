"""Which checkpoint to resume or evaluate, with errors that say what to type instead."""

import logging
import zipfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ..launch.ranks import in_sweep
from ..launch.slurm import requeued_by_slurm
from .directory import LAST_CHECKPOINT

# In the run's log as well as on the console: which checkpoint a run continued from.
log = logging.getLogger(__name__)


class CheckpointNotFound(FileNotFoundError):
    pass


def resume_checkpoint(ckpt_path: str | None, output_dir: str) -> str | None:
    """`ckpt_path=last` means this run directory's `last.ckpt` (the resolver picked the directory).

    A sweep job re-run in its old directory (same command, same `hydra.sweep.dir`) continues from
    its `last.ckpt` without being asked: that is how a crashed sweep is finished, and how a
    SLURM job that was preempted or timed out and requeued continues where it stopped.
    """
    last = Path(output_dir) / LAST_CHECKPOINT
    if ckpt_path is None and last.is_file() and (in_sweep() or requeued_by_slurm()):
        log.info(f"Resuming unfinished {'sweep job' if in_sweep() else 'requeued SLURM job'} from {last}")
        return str(last)
    if ckpt_path is None:
        return None
    if ckpt_path == "last":
        if not last.is_file():
            raise CheckpointNotFound(
                f"ckpt_path=last: no {LAST_CHECKPOINT} in {output_dir}, and no earlier run with the same "
                "config choices and overrides has one; give hydra.run.dir=<run dir> or a .ckpt path"
            )
        log.info(f"Resuming from {last}")
        return str(last)
    return str(existing_checkpoint(ckpt_path))


def existing_checkpoint(ckpt_path: str | None) -> Path:
    if not ckpt_path:
        raise CheckpointNotFound(
            "ckpt_path is required: pass ckpt_path=<run dir>/checkpoints/last.ckpt (or another .ckpt)"
        )
    path = Path(ckpt_path)
    if not path.is_file():
        raise CheckpointNotFound(f"ckpt_path={ckpt_path}: no such file; give the path of a .ckpt file")
    # torch.save writes zip archives: anything else would fail later with an unpickling error.
    if not zipfile.is_zipfile(path):
        raise CheckpointNotFound(
            f"ckpt_path={ckpt_path}: not a checkpoint (not a file torch.save wrote); give a .ckpt file "
            "from a run's checkpoints/ directory"
        )
    return path


def training_config(ckpt_path: Path) -> DictConfig | None:
    """The config of the run that wrote `<run>/checkpoints/<name>.ckpt`, if it is still beside it."""
    config_file = ckpt_path.resolve().parent.parent / ".hydra" / "config.yaml"
    if not config_file.is_file():
        print(f"No {config_file} beside the checkpoint: using the model and data configs composed here")
        return None
    return OmegaConf.load(config_file)
