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

import os
import random
import sys
from contextlib import ExitStack
from typing import Any

from omegaconf import DictConfig, open_dict

from ..cli.value_checks import check_config
from ..launch.ddp_ranks import other_ranks_started
from ..loggers.teardown import finish_loggers
from .checkpoints import existing_checkpoint, resume_checkpoint, training_config
from .record import RunRecord, completed_sweep_job, training_scale
from .settings import apply_extras


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
        self._record: RunRecord | None = None
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
        self._record = self._exits.enter_context(RunRecord(self.cfg))
        try:
            # Before anything is built: a missing checkpoint should stop the run before any work.
            self.checkpoint = self.starting_checkpoint()
            check_config(self.cfg)  # a value no run can use stops here, naming its key
            apply_extras(self.cfg)
            ranks = other_ranks_started(self.cfg, seed=self.seed, ckpt_path=self.checkpoint)
            self._exits.enter_context(ranks)
            self._exits.callback(finish_loggers)
        except BaseException:
            if not self._exits.__exit__(*sys.exc_info()):
                raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        return self._exits.__exit__(exc_type, exc, tb)

    def starting_checkpoint(self) -> str | None:
        """`ckpt_path` (or `last`) to resume; a sweep job or a requeued SLURM job resumes by itself."""
        checkpoint = resume_checkpoint(self.cfg.ckpt_path, self.cfg.paths.output_dir)
        if self.cfg.test and not self.cfg.train and checkpoint is None:
            raise ValueError("train=false tests a checkpoint: give ckpt_path=<.ckpt path> (or use eval.py)")
        return checkpoint

    def trainer(self):
        """The Trainer of `configs/trainer/`, with the configured callbacks and loggers."""
        from ..launch.same_config_on_all_ranks import SameConfigOnAllRanks
        from ..loggers.config_logging import log_config
        from .build import build, build_all, trainer_plugins
        from .metrics_kept import MetricsKept

        self._trainer = build(
            self.cfg,
            "trainer",
            callbacks=[
                *build_all(self.cfg, "callbacks"),
                SameConfigOnAllRanks(self.cfg, self.seed),
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

    def complete(self) -> None:
        """The run's metrics and scale go into run.json, which says `completed` once the block ends."""
        self.details = {"seed": self.seed, **training_scale(self._trainer, self._trainer.datamodule)}
        if self.cfg.get("train"):
            self.details["best_checkpoint"] = self.best_checkpoint()
        self._record.complete(self.metrics, **self.details)


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
        return str(checkpoint)


def settled_seed(seed: int | None) -> int:
    """`seed=null` means a fresh random seed, recorded in run.json like any other (0 is a seed too).

    The ranks of a SLURM job draw it from the job's id: they must agree, also after a requeue.
    """
    if seed is not None:
        return seed
    if int(os.environ.get("SLURM_NTASKS", 1)) > 1:
        return random.Random(os.environ["SLURM_JOB_ID"]).randrange(2**31)
    return random.SystemRandom().randrange(2**31)
