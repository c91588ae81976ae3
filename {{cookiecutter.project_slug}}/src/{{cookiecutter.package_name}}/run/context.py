"""The seam around the method: everything a run does that is not research.

    with Run(cfg) as run:
        ...seed, data, model...
        trainer = run.trainer()
        ...fit, test...
        run.complete()

Entering opens the run's record (run.json `running`, manifest/), settles the seed, finds the
checkpoint to resume, checks the config, applies `extras` and, for `trainer=ddp`, starts the job's
other ranks. `run.trainer()` builds the Trainer with the configured callbacks and loggers plus
what every run needs (checkpoints written atomically, SLURM's environment, the same config on
every rank). Leaving closes the loggers, waits for the other ranks and writes how the run ended.
"""

import logging
import os
import random
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, open_dict

from ..cli.value_checks import check_config
from ..launch.ddp_ranks import other_ranks_started
from ..launch.ranks import is_rank_zero, process_rank
from ..loggers.teardown import finish_loggers
from .checkpoints import (
    ResumeRefused,
    check_resume,
    existing_checkpoint,
    remove_dead_attempts_checkpoints,
    resume_checkpoint,
    training_choices,
    training_config,
)
from .directory import remove_segment_config
from .record import RunRecord, completed_sweep_job, training_scale
from .settings import apply_extras

# On the console and in the run's log.
log = logging.getLogger(__name__)


class StoppedBySigterm(SystemExit):
    """A run ended by SIGTERM, as Lightning's loops end one (a SystemExit without a code): not an
    Exception, so that submitit records no failure for a job SLURM requeues."""


class Run:
    """One training run (train.py); `EvaluationRun` for eval.py."""

    def __init__(self, cfg: DictConfig) -> None:
        self.cfg = cfg
        self.seed: int | None = None
        # The checkpoint the run starts from: the one resumed (train.py) or evaluated (eval.py).
        self.checkpoint: str | None = None
        self.metrics: dict[str, float] = {}
        # What run.json records beside the metrics: seed, best checkpoint, world size, batch size.
        self.details: dict[str, Any] = {}
        self._earlier = completed_sweep_job()
        self._trainer = None
        self._rank_hosts = None  # launch/rank_hosts.py's callback, once the Trainer is built
        self._record: RunRecord | None = None
        self._completed = False
        # Config-group choices run.json records instead of this command line's (eval.py: the training run's).
        self.choices: dict[str, str] = {}
        self._exits = ExitStack()

    @property
    def completed_earlier(self) -> bool:
        """A sweep re-run in its old directory finishes what crashed and repeats nothing else."""
        return self._earlier is not None

    @property
    def objective(self) -> float | None:
        """What a hyper-parameter search (Optuna) maximises: `optimized_metric`."""
        return self.metrics.get(self.cfg.get("optimized_metric"))

    def __enter__(self) -> "Run":
        if self.completed_earlier:
            print(f"Skipping {self._earlier['output_dir']}: completed in an earlier run of this sweep")
            self.metrics = self._earlier["metrics"]
            return self
        # Drawn before the record opens, so that run.json, the manifest and every rank share it.
        self.seed = self.cfg.seed = settled_seed(self.cfg.seed)
        try:
            # Before anything is built: a missing checkpoint should stop the run before any work.
            self.checkpoint = self.starting_checkpoint()
        except Exception:
            # A new run that failed before it began says why; a run already here is left as it was.
            if not (Path(self.cfg.paths.output_dir) / "run.json").exists():
                with RunRecord(self.cfg):
                    raise
            raise
        # Before the record opens: a refused resume leaves the run it names as it was.
        self.check_resume()
        if is_rank_zero():
            remove_dead_attempts_checkpoints(self.cfg.paths.output_dir, self.resumed_from)
        with ExitStack() as exits:
            record = RunRecord(self.cfg, resumed_from=self.resumed_from, choices=self.choices)
            self._record = exits.enter_context(record)
            check_config(self.cfg)  # a value no run can use stops here, naming its key
            apply_extras(self.cfg)
            exits.enter_context(other_ranks_started(self.cfg, seed=self.seed, ckpt_path=self.checkpoint))
            exits.callback(finish_loggers)
            # Entered whole: from here on, leaving the block unwinds them.
            self._exits = exits.pop_all()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None and self._record is not None and not self._completed:
            exc = RuntimeError("the run ended without run.complete(): run.json would record no metrics")
            exc_type, tb = RuntimeError, None
            self._exits.__exit__(exc_type, exc, tb)
            raise exc
        if self._record is not None and self._rank_hosts is not None and self._rank_hosts.hosts:
            # Known from setup on: also a failed run says where it ran, and which rank went away.
            self._record.data["hosts"] = self._rank_hosts.hosts
            self._record.explain_error = lambda error: self._rank_hosts.went_away(error, process_rank())
        if self.stopped_by_sigterm(exc):
            # Under SLURM a preemption signals every process of the job. W&B's service, killed by
            # it, can fail a log call before Lightning's loop acts on the signal: the run then ends
            # as the loop would have ended it, so that the job is requeued, not recorded as failed.
            log.warning(f"Stopped by SIGTERM; what failed after it: {type(exc).__name__}: {exc}")
            stopped = StoppedBySigterm()
            stopped.__cause__ = exc
            self._exits.__exit__(type(stopped), stopped, tb)
            raise stopped
        suppressed = self._exits.__exit__(exc_type, exc, tb)
        if exc is None and self._record is not None and is_rank_zero():
            log.info(self.closing_line())
        return suppressed

    def stopped_by_sigterm(self, exc: BaseException | None) -> bool:
        """An error (not a SIGTERM exit) raised once the Trainer had received SIGTERM."""
        trainer_stopping = self._trainer is not None and self._trainer.received_sigterm
        return isinstance(exc, Exception) and trainer_stopping

    def closing_line(self) -> str:
        """Where the run went and what it measured: the followed metric's best and the test metrics."""
        shown = [self.cfg.get("optimized_metric"), *sorted(n for n in self.metrics if n.startswith("test/"))]
        values = ", ".join(f"{name} {self.metrics[name]:.4f}" for name in shown if name in self.metrics)
        return f"Done: {self._record.path.parent} ({values or 'no metrics'}); its record: run.json"

    def starting_checkpoint(self) -> str | None:
        """`ckpt_path` (or `last`) to resume; a sweep job or a requeued SLURM job resumes by itself."""
        checkpoint = resume_checkpoint(self.cfg.ckpt_path, self.cfg.paths.output_dir)
        if self.cfg.test and not self.cfg.train and checkpoint is None:
            raise ValueError("train=false tests a checkpoint: give ckpt_path=<.ckpt path> (or use eval.py)")
        return checkpoint

    @property
    def resumed_from(self) -> str | None:
        """The checkpoint training continues from; None for a fresh run, a test-only run and eval.py."""
        return self.checkpoint if self.cfg.get("train") else None

    def check_resume(self) -> None:
        if self.resumed_from is None:
            return
        try:
            check_resume(self.resumed_from, self.cfg)
        except ResumeRefused:
            # Hydra wrote this attempt's config beside the run's own; nothing of it ran.
            remove_segment_config()
            raise

    def trainer(self):
        """The Trainer of `configs/trainer/`, with the configured callbacks and loggers."""
        from ..launch.rank_hosts import RankHosts
        from ..launch.same_config_on_all_ranks import SameConfigOnAllRanks
        from ..loggers.config_logging import log_config
        from .build import build, build_all, trainer_plugins
        from .metrics_kept import MetricsKept

        self._rank_hosts = RankHosts()
        self._trainer = build(
            self.cfg,
            "trainer",
            callbacks=[
                *build_all(self.cfg, "callbacks"),
                SameConfigOnAllRanks(self.cfg, self.seed),
                self._rank_hosts,
                MetricsKept(self.metrics),
            ],
            logger=build_all(self.cfg, "logger") or False,
            # Atomic checkpoint writes; under SLURM, submitit alone requeues (README).
            plugins=trainer_plugins(self.cfg.trainer.get("plugins")),
        )
        log_config(self._trainer.loggers, self.cfg)
        return self._trainer

    def best_checkpoint(self) -> str | None:
        """What `trainer.test` should load: the best epoch's checkpoint, not the last epoch's; when
        nothing was saved (fast_dev_run, train=false) the checkpoint the run started from."""
        from lightning.pytorch.callbacks import ModelCheckpoint

        checkpoints = self._trainer.checkpoint_callbacks
        best = next((c.best_model_path for c in checkpoints if isinstance(c, ModelCheckpoint)), "")
        return best or self.checkpoint

    @property
    def pruned(self) -> bool:
        """Whether a hyper-parameter search stopped this run early: a callback that did says so
        with `pruned = True` (callbacks/optuna_pruning.py)."""
        callbacks = self._trainer.callbacks if self._trainer is not None else []
        return any(getattr(callback, "pruned", False) for callback in callbacks)

    def complete(self) -> None:
        """The run's metrics and scale go into run.json, which says `completed` (or `pruned`) once
        the block ends."""
        scale = training_scale(self._trainer, self._trainer.datamodule)
        self.details = {"seed": self.seed, **scale, **self.checkpoint_details()}
        self._record.complete(self.metrics, pruned=self.pruned, **self.details)
        self._completed = True

    def checkpoint_details(self) -> dict[str, str | None]:
        """The checkpoint of the best epoch, if this run saved one."""
        best = self.best_checkpoint()
        return {"best_checkpoint": best if best != self.checkpoint else None}


# What eval.py takes from the training run's config: what was learnt, by which model, from what.
TRAINING_CHOICES = ("task", "monitor", "model", "data")


class EvaluationRun(Run):
    """eval.py's run: the checkpoint must exist, and by default the task, model and data configs
    are those its training run saved beside it (`use_train_config=false`: the ones composed here)."""

    def starting_checkpoint(self) -> str:
        checkpoint = existing_checkpoint(self.cfg.ckpt_path)
        train_cfg = training_config(checkpoint) if self.cfg.use_train_config else None
        if train_cfg is not None:
            print(f"Using the task, model and data config of the training run in {checkpoint.parent.parent}")
            with open_dict(self.cfg):
                for key in TRAINING_CHOICES:
                    if key in train_cfg:
                        self.cfg[key] = train_cfg[key]
            # run.json names what was evaluated: the training run's choices of these groups.
            self.choices = training_choices(checkpoint, TRAINING_CHOICES)
        return str(checkpoint)

    def checkpoint_details(self) -> dict[str, str | None]:
        """The checkpoint evaluated."""
        return {"checkpoint": self.checkpoint}


def settled_seed(seed: int | None) -> int:
    """`seed=null` means a fresh random seed, recorded in run.json like any other (0 is a seed too).

    The ranks of a SLURM job draw it from the job's id: they must agree, also after a requeue.
    """
    if seed is not None:
        return seed
    if int(os.environ.get("SLURM_NTASKS", 1)) > 1:
        return random.Random(os.environ["SLURM_JOB_ID"]).randrange(2**31)
    return random.SystemRandom().randrange(2**31)
