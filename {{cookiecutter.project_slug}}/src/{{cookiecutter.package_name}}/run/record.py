"""`run.json`: what ran, how it ended and what it measured; later tools (reports) read only this."""

import json
import os
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from ..cli.overrides import override_key
from ..launch.ranks import in_sweep, is_rank_zero
from ..launch.slurm import slurm_job
from .manifest import write_manifest


def training_scale(trainer, datamodule) -> dict[str, Any]:
    """How many processes trained and how many samples each optimizer step saw, for run.json."""
    # No data module when the run neither trained nor tested (train=false test=false).
    batch_size = None if datamodule is None else datamodule.hparams.get("batch_size")
    scale = {"world_size": trainer.world_size, "precision": str(trainer.precision)}
    if batch_size is not None:
        scale["effective_batch_size"] = batch_size * trainer.accumulate_grad_batches * trainer.world_size
    return scale


def task_choices(choices: dict) -> dict:
    """Config-group choices that describe the task, without Hydra's own (launcher, logging...)."""
    return {group: choice for group, choice in choices.items() if not group.startswith("hydra")}


def read_record(run_dir: Path | str) -> dict[str, Any]:
    """The run.json of `run_dir`; {} when there is none, or none that can be read."""
    try:
        return json.loads((Path(run_dir) / "run.json").read_text())
    except (OSError, ValueError):
        return {}


def completed_sweep_job() -> dict[str, Any] | None:
    """When a sweep is re-run in the same directory: this job's earlier record, if it completed."""
    if not in_sweep():
        return None
    record = read_record(HydraConfig.get().runtime.output_dir)
    return record if record.get("status") == "completed" else None


class RunRecord:
    """Context manager: `status` is `running` inside, then `completed` or `failed` (with `error`),
    or `pruned` when a hyper-parameter search stopped the run early (`complete(..., pruned=True)`).

    A run resumed in its own directory (`ckpt_path=last`, a sweep job re-run, a requeued SLURM job)
    is one more segment of the same record: `started_at` stays the first start, `duration_s` adds
    up the segments, and `segments` lists each (when it started, how long, its overrides, the
    checkpoint it resumed from, how it ended). `overrides` are the run's as they now stand: each
    key's latest value, `ckpt_path` left out.
    """

    def __init__(
        self, cfg: DictConfig, resumed_from: str | None = None, choices: dict[str, str] | None = None
    ) -> None:
        hydra_cfg = HydraConfig.get()
        self.path = Path(hydra_cfg.runtime.output_dir) / "run.json"
        self.enabled = is_rank_zero()
        overrides = list(hydra_cfg.overrides.task)
        earlier = self._earlier_record(resumed_from)
        self.segment: dict[str, Any] = {
            "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "overrides": overrides,
            "resumed_from": resumed_from,
        }
        self.segments = [*earlier.get("segments", []), self.segment]
        self.data: dict[str, Any] = {
            "status": "running",
            "task_name": cfg.get("task_name"),
            "seed": cfg.get("seed"),
            "overrides": merged_overrides([s["overrides"] for s in self.segments]),
            # `choices` (eval.py: the training run's) in place of this command line's.
            "choices": {**task_choices(OmegaConf.to_container(hydra_cfg.runtime.choices)), **(choices or {})},
            "tags": OmegaConf.to_container(cfg.tags) if cfg.get("tags") is not None else [],
            "output_dir": str(self.path.parent),
            "started_at": earlier.get("started_at", self.segment["started_at"]),
            "slurm": slurm_job(),
            "metrics": {},
            "segments": self.segments,
        }
        self.cfg = cfg
        # A better first line for an error than its own (a lost DDP rank: which one, on which host).
        self.explain_error: Callable[[BaseException], str | None] = lambda error: None
        self._ending = "completed"  # how the run ends if nothing raises
        self._earlier_duration = sum(s.get("duration_s") or 0.0 for s in self.segments[:-1])
        self._start = time.perf_counter()

    def _earlier_record(self, resumed_from: str | None) -> dict[str, Any]:
        """This directory's run.json when the run resumes from a checkpoint of its own; else {}."""
        if resumed_from is None or Path(resumed_from).resolve().parent.parent != self.path.parent.resolve():
            return {}
        earlier = read_record(self.path.parent)
        if earlier and "segments" not in earlier:  # written before records had segments: one segment
            earlier["segments"] = [
                {key: earlier.get(key) for key in ("started_at", "duration_s", "overrides", "status")}
            ]
        return earlier

    def __enter__(self) -> "RunRecord":
        if self.enabled:
            script = f"{HydraConfig.get().job.name}.py"
            manifest = write_manifest(self.cfg, self.segments, self.path.parent, script)
            self.segment["manifest"] = str(manifest.relative_to(self.path.parent))
            self.data["manifest"] = self.segments[0].get("manifest", self.segment["manifest"])
        self._write()
        return self

    def complete(self, metrics: dict[str, float], pruned: bool = False, **extra: Any) -> None:
        self.data["metrics"] = metrics
        self.data.update(extra)
        self._ending = "pruned" if pruned else "completed"

    def __exit__(self, exc_type, exc, tb) -> bool:
        duration = round(time.perf_counter() - self._start, 3)
        finished = datetime.now().astimezone().isoformat(timespec="seconds")
        status = self._ending if exc is None else "failed"
        self.segment.update(duration_s=duration, finished_at=finished, status=status)
        self.data.update(
            duration_s=round(self._earlier_duration + duration, 3), finished_at=finished, status=status
        )
        if exc is not None:
            # One line to read in a report; the rest (a long state_dict listing, say) kept apart.
            message = "".join(traceback.format_exception_only(exc_type, exc)).strip().splitlines()
            explained = self.explain_error(exc)
            if explained:
                message = [explained, *message]
            self.data["error"] = message[0] if message else exc_type.__name__
            if len(message) > 1:
                self.data["error_detail"] = "\n".join(message[1:])
        else:
            self.data.pop("error", None)
            self.data.pop("error_detail", None)
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


def merged_overrides(segments: list[list[str]]) -> list[str]:
    """The overrides of a run made of segments: each key's latest value, without `ckpt_path`
    (how a segment started, not what the run is)."""
    latest: dict[str, str] = {}
    for overrides in segments:
        for override in overrides:
            key = override_key(override)
            if key != "ckpt_path":
                latest[key] = override
    return list(latest.values())
