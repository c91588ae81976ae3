"""Where a run writes: a new timestamped directory, the previous one when resuming, or a sweep job's.

Hydra creates these directories before `main` runs, so the choices are made by resolvers used in
`configs/hydra/default.yaml`.
"""

import hashlib
import json
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


# Long enough to read every override of a typical ablation; longer names get a hash suffix.
MAX_JOB_DIR_NAME = 120


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("run_dir", run_dir, replace=True, use_cache=True)
    OmegaConf.register_new_resolver("job_dir", job_dir_name, replace=True, use_cache=True)
    OmegaConf.register_new_resolver("sqlite_in", sqlite_in, replace=True, use_cache=True)


def run_dir(ckpt_path: str | None, runs_root: str, experiment: str | None) -> str:
    """With `ckpt_path=last`, the latest run of this experiment that has a `last.ckpt`; else a new one."""
    root = Path(runs_root)
    if ckpt_path == "last":
        previous = latest_resumable_run(root, experiment)
        if previous is not None:
            return str(previous)
    return str(new_run_dir(root))


def new_run_dir(root: Path) -> Path:
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    candidate, n = root / stamp, 1
    while candidate.exists():  # two runs started in the same second
        n += 1
        candidate = root / f"{stamp}_{n}"
    return candidate


def latest_resumable_run(root: Path, experiment: str | None) -> Path | None:
    runs = [
        ckpt.parent.parent
        for ckpt in root.glob(f"*/{LAST_CHECKPOINT}")
        if _experiment_of(ckpt.parent.parent) == experiment
    ]
    return max(runs, key=lambda run: (run / LAST_CHECKPOINT).stat().st_mtime, default=None)


def _experiment_of(run: Path) -> str | None:
    try:
        return json.loads((run / "run.json").read_text())["choices"].get("experiment")
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def job_dir_name(job_num: int, override_dirname: str) -> str:
    """`3_model=cnn,seed=2`: the job's number, then its overrides, as one safe directory name."""
    name = f"{job_num}_{override_dirname}".rstrip("_").replace("/", "-")
    if len(name) > MAX_JOB_DIR_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_JOB_DIR_NAME - 9]}_{digest}"
    return name


def sqlite_in(directory: str, filename: str) -> str:
    """A SQLite URL for a file in `directory`, created first: SQLite does not create folders."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(directory).resolve() / filename}"
