"""Where a single run writes: a new timestamped directory, or the previous one when resuming.

Hydra creates the run directory before `main` runs, so the choice is made by a resolver used in
`configs/hydra/default.yaml` (`hydra.run.dir`).
"""

import json
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("run_dir", run_dir, replace=True, use_cache=True)


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
