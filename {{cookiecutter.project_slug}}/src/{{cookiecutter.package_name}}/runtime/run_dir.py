"""Where a run writes: a new timestamped directory, the previous one when resuming, or a sweep job's.

Hydra creates these directories before `main` runs, so the choices are made by resolvers used in
`configs/hydra/default.yaml`.
"""

import hashlib
import json
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

from .run_record import process_rank, task_choices
from .slurm import slurm_run_name

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


# Long enough to read every override of a typical ablation; longer names get a hash suffix.
MAX_JOB_DIR_NAME = 120


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("run_dir", run_dir, replace=True, use_cache=True)
    OmegaConf.register_new_resolver("job_dir", job_dir_name, replace=True, use_cache=True)
    OmegaConf.register_new_resolver("sqlite_in", sqlite_in, replace=True, use_cache=True)
    OmegaConf.register_new_resolver("rank_zero_only", rank_zero_only, replace=True)
    OmegaConf.register_new_resolver("rank_suffix", rank_suffix, replace=True)


def rank_zero_only(value: str) -> str | None:
    """`value` in the process that owns the run's files, None in the other ranks of a DDP job."""
    return value if process_rank() == 0 else None


def rank_suffix() -> str:
    """`_rank1` for rank 1 of a DDP job, so that each rank logs to a file of its own."""
    rank = process_rank()
    return f"_rank{rank}" if rank else ""


def run_dir(ckpt_path: str | None, runs_root: str, choices, overrides) -> str:
    """With `ckpt_path=last`, the latest run of the same configuration that has a `last.ckpt`.

    The same configuration: the same config-group choices and the same overrides, apart from
    `ckpt_path`, the training length, which a resumed run may extend, and RESUME_MAY_CHANGE's
    settings of display and checkpoint frequency.
    """
    root = Path(runs_root)
    if ckpt_path == "last":
        previous = latest_resumable_run(root, configuration(choices, overrides))
        if previous is not None:
            return str(previous)
    return str(new_run_dir(root))


def new_run_dir(root: Path) -> Path:
    slurm_name = slurm_run_name()
    if slurm_name is not None:
        return root / slurm_name
    # Microseconds: single runs started in the same second (a job array) never share a directory.
    return root / datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")


# Keys a resumed run may override differently without becoming a different configuration (with
# every key below them): how long it trains, and what it shows or how often it saves, never what
# it learns.
RESUME_MAY_CHANGE = (
    "ckpt_path",
    "trainer.max_epochs",
    "trainer.max_steps",
    "trainer.max_time",
    "extras",
    "callbacks.progress_bar",
    "callbacks.last_checkpoint.min_interval_s",
)


def configuration(choices, overrides) -> tuple:
    choices = task_choices(dict(choices or {}))
    kept = sorted(o for o in (overrides or []) if not may_change_on_resume(str(o)))
    return tuple(sorted(choices.items(), key=str)), tuple(kept)


def may_change_on_resume(override: str) -> bool:
    key = override.lstrip("+~").split("=", 1)[0]
    return any(key == allowed or key.startswith(f"{allowed}.") for allowed in RESUME_MAY_CHANGE)


def latest_resumable_run(root: Path, wanted: tuple) -> Path | None:
    runs = [ckpt.parent.parent for ckpt in root.glob(f"*/{LAST_CHECKPOINT}")]
    same = [run for run in runs if _configuration_of(run) == wanted]
    return max(same, key=lambda run: (run / LAST_CHECKPOINT).stat().st_mtime, default=None)


def _configuration_of(run: Path) -> tuple | None:
    try:
        record = json.loads((run / "run.json").read_text())
        return configuration(record["choices"], record["overrides"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def job_dir_name(job_num: int, override_dirname: str) -> str:
    """`model=cnn,seed=2`: the job's overrides as one safe directory name; its number if it has none."""
    name = override_dirname.replace("/", "-") or str(job_num)
    if len(name) > MAX_JOB_DIR_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_JOB_DIR_NAME - 9]}_{digest}"
    return name


def sqlite_in(directory: str, filename: str) -> str:
    """A SQLite URL for a file in `directory`, created first: SQLite does not create folders."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(directory).resolve() / filename}"
