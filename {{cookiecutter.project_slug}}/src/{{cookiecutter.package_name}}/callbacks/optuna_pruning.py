"""Report the monitored metric to the job's Optuna trial each epoch and stop if the pruner says so."""

import logging

import lightning as L
import optuna

from ..search.job_trial import PRUNED_ATTR, job_trial

log = logging.getLogger(__name__)


class OptunaPruning(L.Callback):
    """Each validation epoch rank 0 reports `monitor` to the trial and asks the study's pruner;
    every rank takes its answer (a broadcast), so that a DDP job stops on all ranks together.

    A pruned run stops at the end of that epoch (`trainer.should_stop`) and says so with `pruned`,
    which run.json records as its status; the search then tells the study the trial was pruned.
    Outside a search (`trial=None`) it does nothing.
    """

    def __init__(
        self,
        monitor: str,
        trial: int | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
    ) -> None:
        if trial is not None and (storage is None or study_name is None):
            raise ValueError("callbacks.optuna_pruning: a trial needs its study's `storage` and `study_name`")
        self.monitor, self.trial_number = monitor, trial
        self.storage, self.study_name = storage, study_name
        self.pruner = pruner or optuna.pruners.NopPruner()
        self.trial: optuna.trial.Trial | None = None
        self.pruned = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.trial_number is not None and trainer.is_global_zero and self.trial is None:
            self.trial = job_trial(self.storage, self.study_name, self.trial_number, self.pruner)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.trial_number is None or trainer.sanity_checking or self.pruned:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:  # the same metrics on every rank: every rank raises alike
            logged = ", ".join(sorted(trainer.callback_metrics)) or "none"
            raise ValueError(f"callbacks.optuna_pruning: the run logs no {self.monitor!r}; metrics: {logged}")
        prune = False
        if trainer.is_global_zero:
            self.trial.report(float(value), step=trainer.current_epoch)
            prune = self.trial.should_prune()
        if trainer.strategy.broadcast(prune, src=0):
            self.pruned = trainer.should_stop = True
            if trainer.is_global_zero:
                self.trial.set_user_attr(PRUNED_ATTR, trainer.current_epoch)
                log.info(
                    f"Trial {self.trial_number} pruned at epoch {trainer.current_epoch} "
                    f"({self.monitor} {float(value):.4f})"
                )
