"""`run.json`: what ran, how it ended and what it measured; later tools (reports) read only this."""

import json
import os
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from ..launch.ranks import in_sweep, is_rank_zero
from ..launch.slurm import slurm_job
from .manifest import write_manifest


def training_scale(trainer, datamodule) -> dict[str, Any]:
    """How many processes trained and how many samples each optimizer step saw, for run.json."""
    batch_size = getattr(datamodule.hparams, "batch_size", None)
    scale = {"world_size": trainer.world_size, "precision": str(trainer.precision)}
    if batch_size is not None:
        scale["effective_batch_size"] = batch_size * trainer.accumulate_grad_batches * trainer.world_size
    return scale


def task_choices(choices: dict) -> dict:
    """Config-group choices that describe the task, without Hydra's own (launcher, logging...)."""
    return {group: choice for group, choice in choices.items() if not group.startswith("hydra")}


def completed_sweep_job() -> dict[str, Any] | None:
    """When a sweep is re-run in the same directory: this job's earlier record, if it completed."""
    if not in_sweep():
        return None
    try:
        record = json.loads((Path(HydraConfig.get().runtime.output_dir) / "run.json").read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("status") == "completed" else None


class RunRecord:
    """Context manager: `status` is `running` inside, then `completed` or `failed` (with `error`)."""

    def __init__(self, cfg: DictConfig) -> None:
        hydra_cfg = HydraConfig.get()
        self.path = Path(hydra_cfg.runtime.output_dir) / "run.json"
        self.enabled = is_rank_zero()
        self.data: dict[str, Any] = {
            "status": "running",
            "task_name": cfg.get("task_name"),
            "seed": cfg.get("seed"),
            "overrides": list(hydra_cfg.overrides.task),
            "choices": task_choices(OmegaConf.to_container(hydra_cfg.runtime.choices)),
            "tags": OmegaConf.to_container(cfg.tags) if cfg.get("tags") is not None else [],
            "output_dir": str(self.path.parent),
            "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "slurm": slurm_job(),
            "metrics": {},
        }
        self.cfg = cfg
        self._start = time.perf_counter()

    def __enter__(self) -> "RunRecord":
        if self.enabled:
            script = f"{HydraConfig.get().job.name}.py"
            manifest = write_manifest(self.cfg, self.data["overrides"], self.path.parent, script)
            self.data["manifest"] = str(manifest.relative_to(self.path.parent))
        self._write()
        return self

    def complete(self, metrics: dict[str, float], **extra: Any) -> None:
        self.data["metrics"] = metrics
        self.data.update(extra)

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.data["duration_s"] = round(time.perf_counter() - self._start, 3)
        self.data["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
        if exc is None:
            self.data["status"] = "completed"
        else:
            self.data["status"] = "failed"
            # One line to read in a report; the rest (a long state_dict listing, say) kept apart.
            message = "".join(traceback.format_exception_only(exc_type, exc)).strip().splitlines()
            self.data["error"] = message[0] if message else exc_type.__name__
            if len(message) > 1:
                self.data["error_detail"] = "\n".join(message[1:])
        self._write()
        return False

    def _write(self) -> None:
        if not self.enabled:
            return
        # Write then rename, so that a reader never sees half a file.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, default=str) + "\n")
        os.replace(tmp, self.path)
