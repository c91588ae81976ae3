"""Which checkpoint to resume or evaluate, and whether a resume may go on, with errors that say
what to type instead."""

import logging
import math
import zipfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ..launch.ranks import in_sweep
from ..launch.slurm import requeued_by_slurm
from .directory import LAST_CHECKPOINT
from .record import read_record

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
    if ckpt_path is None and (in_sweep() or requeued_by_slurm()):
        return unfinished_job_checkpoint(output_dir)
    if ckpt_path is None:
        return None
    if ckpt_path == "last":
        if not last.is_file():
            raise CheckpointNotFound(
                f"ckpt_path=last: no {LAST_CHECKPOINT} in {output_dir}, and no earlier run with the same "
                "config choices and overrides has one; give hydra.run.dir=<run dir> or a .ckpt path"
            )
        return str(last)
    return str(existing_checkpoint(ckpt_path, best=False))


def unfinished_job_checkpoint(output_dir: str) -> str | None:
    """A sweep job re-run, or a requeued SLURM job: its `last.ckpt`; without one the job starts
    over, and says so when an earlier attempt had begun (its run.json is here)."""
    last = Path(output_dir) / LAST_CHECKPOINT
    if last.is_file():
        return str(last)
    earlier = read_record(output_dir)
    if earlier:
        status = earlier.get("status")
        log.info(
            f"Starting {unfinished_job()} {output_dir} over: its earlier attempt ({status}) left no "
            f"{LAST_CHECKPOINT}, which is written at an epoch's end once "
            "callbacks.last_checkpoint.min_interval_s have passed"
        )
    return None


def unfinished_job() -> str:
    return "sweep job" if in_sweep() else "requeued SLURM job"


def finished_epochs(state: dict) -> int:
    return state["loops"]["fit_loop"]["epoch_progress"]["total"]["processed"]


def remove_dead_attempts_checkpoints(output_dir: str, resumed_from: str | None) -> list[Path]:
    """The checkpoints an attempt that died left in its run's `checkpoints/`, removed, and returned.

    Resuming from the run's own `last.ckpt`: every checkpoint written after it (the dead attempt
    went on training; the resumed run trains those epochs again, and its own files would get a
    `-v1` beside the stale ones). Starting a sweep or requeued job over: every checkpoint of the
    attempt. A run resumed from another run's checkpoint, or a new one, has nothing to remove.
    """
    directory = Path(output_dir) / LAST_CHECKPOINT.parent
    last = Path(output_dir) / LAST_CHECKPOINT
    if resumed_from is not None:
        if not last.is_file() or Path(resumed_from).resolve() != last.resolve():
            return []
        written_before = last.stat().st_mtime
    elif (in_sweep() or requeued_by_slurm()) and read_record(output_dir) and directory.is_dir():
        written_before = -math.inf
    else:
        return []
    stale = [
        path
        for path in sorted(directory.iterdir())
        if path.is_file() and path != last and path.stat().st_mtime > written_before
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        log.info(f"Removed the checkpoints the dead attempt wrote: {', '.join(path.name for path in stale)}")
    return stale


def existing_checkpoint(ckpt_path: str | None, best: bool = True) -> Path:
    """The checkpoint `ckpt_path` names: a .ckpt file, or a run or job directory (as `Done: <dir>`
    prints it) for its best epoch's checkpoint (`best`, to evaluate) or its `last.ckpt` (to resume)."""
    if not ckpt_path:
        raise CheckpointNotFound(
            "ckpt_path is required: pass ckpt_path=<run dir>/checkpoints/last.ckpt (or another .ckpt)"
        )
    path = Path(ckpt_path)
    if path.is_dir():
        path = checkpoint_of_run(path, best)
        log.info(f"ckpt_path={ckpt_path}: using {path}")
    if not path.is_file():
        raise CheckpointNotFound(f"ckpt_path={ckpt_path}: no such file; give the path of a .ckpt file")
    # torch.save writes zip archives: anything else would fail later with an unpickling error.
    if not zipfile.is_zipfile(path):
        raise CheckpointNotFound(
            f"ckpt_path={ckpt_path}: not a checkpoint (not a file torch.save wrote); give a .ckpt file "
            "from a run's checkpoints/ directory"
        )
    return path


def checkpoint_of_run(run_dir: Path, best: bool) -> Path:
    """`run_dir`'s best checkpoint as its run.json records it (`best`), else its `last.ckpt`."""
    looked_for = [*(recorded_best(run_dir) if best else []), run_dir / LAST_CHECKPOINT]
    found = next((path for path in looked_for if path.is_file()), None)
    if found is None:
        missing = (
            f"neither the best checkpoint its run.json records nor {LAST_CHECKPOINT}"
            if best
            else f"no {LAST_CHECKPOINT}"
        )
        raise CheckpointNotFound(
            f"ckpt_path={run_dir}: a directory with {missing}; give a run directory (as `Done: <dir>` "
            "prints it) or a .ckpt file"
        )
    return found


def recorded_best(run_dir: Path) -> list[Path]:
    """run.json's `best_checkpoint`, and the file of that name in `run_dir` if the run was moved."""
    best = read_record(run_dir).get("best_checkpoint")
    return [Path(best), run_dir / "checkpoints" / Path(best).name] if best else []


def training_choices(ckpt_path: Path, groups: tuple[str, ...]) -> dict[str, str]:
    """The config-group choices under `groups` (e.g. `model`, `model/optimizer`) that the run which
    wrote `<run>/checkpoints/<name>.ckpt` recorded in its run.json; {} without one."""
    choices = read_record(ckpt_path.resolve().parent.parent).get("choices", {})
    return {group: choice for group, choice in choices.items() if group.split("/")[0] in groups}


def training_config(ckpt_path: Path) -> DictConfig | None:
    """The config of the run that wrote `<run>/checkpoints/<name>.ckpt`, if it is still beside it."""
    config_file = ckpt_path.resolve().parent.parent / ".hydra" / "config.yaml"
    if not config_file.is_file():
        print(f"No {config_file} beside the checkpoint: using the task, model and data composed here")
        return None
    return OmegaConf.load(config_file)


class ResumeRefused(ValueError):
    pass


def check_resume(checkpoint: str, cfg: DictConfig) -> None:
    """A resume continues the run that was started, exactly, or is refused before anything is
    written: a completed run has nothing left to resume, and a learning-rate schedule built for
    another horizon would not be followed (a cosine schedule for 3 epochs run to 6 rises again)."""
    import torch

    # mmap: the weights stay on disk; only the loop and scheduler states are read here.
    state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    given = f"ckpt_path={cfg.ckpt_path}" if cfg.ckpt_path else f"resuming {checkpoint}"
    _check_same_choices(Path(checkpoint), given)
    _check_not_completed(state, Path(checkpoint).parent.parent, cfg, given)
    _check_same_schedule(state, cfg, given)
    # Said once the resume is known to go on; a refused one says only why.
    resumed = f"unfinished {unfinished_job()} " if cfg.ckpt_path is None else ""
    log.info(f"Resuming {resumed}from {checkpoint}, after {finished_epochs(state)} epochs")


# The config groups that decide what the weights are: resuming under others cannot load them.
WEIGHT_GROUPS = ("task", "model", "data")


def _check_same_choices(checkpoint: Path, given: str) -> None:
    """The checkpoint's run (its run.json, when it is beside it) chose the same model and data."""
    from hydra.core.hydra_config import HydraConfig

    trained = training_choices(checkpoint, WEIGHT_GROUPS)
    here = HydraConfig.get().runtime.choices
    differ = {group: choice for group, choice in trained.items() if here.get(group, choice) != choice}
    if differ:
        theirs = " ".join(f"{group}={choice}" for group, choice in sorted(differ.items()))
        ours = " ".join(f"{group}={here.get(group)}" for group in sorted(differ))
        raise ResumeRefused(
            f"{given}: written by a run with {theirs}, this run has {ours}: give {theirs} to resume it"
        )


def _check_not_completed(state: dict, run_dir: Path, cfg: DictConfig, given: str) -> None:
    if read_record(run_dir).get("status") != "completed":
        return
    epochs = finished_epochs(state)
    if any(
        name.startswith("EarlyStopping") and callback.get("stopped_epoch", 0) > 0
        for name, callback in state["callbacks"].items()
    ):
        raise ResumeRefused(
            f"{given}: {run_dir} completed, stopped early after epoch {epochs}; resumed, it would stop "
            "again: train a new run (without ckpt_path) to train it otherwise"
        )
    max_epochs = cfg.trainer.get("max_epochs")
    if max_epochs is not None and 0 <= max_epochs <= epochs:
        scheduler = _horizon_scheduler(cfg)
        further = (
            f"its {scheduler} ends there: train a longer run anew (without ckpt_path)"
            if scheduler
            else f"to train it further, give trainer.max_epochs greater than {epochs}"
        )
        raise ResumeRefused(
            f"{given}: {run_dir} completed its {epochs} epochs, nothing is left to resume; {further}"
        )


def _horizon_scheduler(cfg: DictConfig) -> str | None:
    """The scheduler's name when its schedule is made for `trainer.max_epochs` (cosine's T_max)."""
    scheduler = cfg.model.get("scheduler")
    if not scheduler:
        return None
    written = OmegaConf.to_container(scheduler, resolve=False)
    if "${trainer.max_epochs}" not in written.values():
        return None
    return str(written.get("_target_", "scheduler")).rsplit(".", 1)[-1]


def _check_same_schedule(state: dict, cfg: DictConfig, given: str) -> None:
    scheduler = cfg.model.get("scheduler")
    if not scheduler or not state.get("lr_schedulers"):
        return
    saved = state["lr_schedulers"][0]
    wanted = OmegaConf.to_container(scheduler, resolve=True)
    written = OmegaConf.to_container(scheduler, resolve=False)
    for key, value in wanted.items():
        if key.startswith("_") or key not in saved or saved[key] == value:
            continue
        name = str(wanted.get("_target_", "the scheduler")).rsplit(".", 1)[-1]
        # T_max: ${trainer.max_epochs}: a longer run is another schedule, not a resumed one.
        fix = (
            f"give trainer.max_epochs={saved[key]} to finish it as planned, or train a longer run anew"
            if written[key] == "${trainer.max_epochs}"
            else f"give model.scheduler.{key}={saved[key]} to finish it as planned"
        )
        raise ResumeRefused(
            f"{given}: its {name} was built with {key}={saved[key]}, this run asks for {key}={value}; "
            f"the resumed run would follow neither schedule: {fix}"
        )
