"""The search loop on Optuna's ask-and-tell interface, launching each batch of trials as Hydra jobs.

    ask n_jobs trials -> launch them through hydra/launcher (joblib: n at once; submitit: a SLURM
    array) -> tell each its value, PRUNED (its job stopped it, callbacks/optuna_pruning.py) or FAIL

until the study holds `n_trials` finished (completed or pruned) trials. The study continues from
its storage: the same command after a crash runs only the missing trials, and first marks FAIL
the trials a dead search left RUNNING (search/sweeper_lease.py).
"""

import logging
import os
from pathlib import Path
from typing import Any

import optuna
from hydra.core.plugins import Plugins
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from optuna.trial import TrialState

from ..run.trusted_targets import instantiate
from .job_trial import PRUNED_ATTR
from .space import SearchSpace, search_space
from .storage import journal_storage
from .sweeper_lease import SEARCH_ATTR, SearchLease, fail_trials_of_dead_searches

log = logging.getLogger(__name__)

# The override that tells a trial's job which trial it is (callbacks/optuna_pruning.py reads it).
TRIAL_KEY = "optuna_trial"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
RESULTS_FILE = "optimization_results.yaml"


class StudySearch:
    def __init__(
        self,
        study_name: str,
        storage: str,
        direction: str,
        n_trials: int,
        n_jobs: int,
        max_failure_rate: float,
        sampler: DictConfig,
        pruner: DictConfig,
        params: dict[str, str] | None,
    ) -> None:
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"hydra.sweeper.direction={direction!r}: give maximize or minimize")
        if not 0.0 <= max_failure_rate <= 1.0:
            raise ValueError(f"hydra.sweeper.max_failure_rate={max_failure_rate}: give a fraction in [0, 1]")
        self.study_name, self.storage_path, self.direction = study_name, Path(storage), direction
        self.n_trials, self.n_jobs, self.max_failure_rate = n_trials, n_jobs, max_failure_rate
        # The pruner is used by the jobs, which build their own from the same config
        # (callbacks/optuna_pruning.py); here it only has to be valid.
        self.sampler, self.pruner = instantiate(sampler), instantiate(pruner)
        self.params = dict(params or {})

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )

    def sweep(self, arguments: list[str]) -> list:
        space = search_space(self.params, arguments)
        study = optuna.create_study(
            study_name=self.study_name,
            storage=journal_storage(self.storage_path),
            sampler=self.sampler,
            pruner=self.pruner,
            direction=self.direction,
            load_if_exists=True,
        )
        study_dir = self.storage_path.parent
        with SearchLease(study_dir) as lease:
            dead = fail_trials_of_dead_searches(study, study_dir)
            if dead:
                log.warning(f"Trials {dead} were left running by a search that died: marked failed")
            returns = self.run_trials(study, space, lease.id)
        self.save_results(study)
        return returns

    def run_trials(self, study: optuna.Study, space: SearchSpace, search_id: str) -> list:
        """Batches of trials until the study holds n_trials finished ones."""
        all_returns, job_idx = [], 0
        while (missing := self.n_trials - finished_trials(study)) > 0:
            trials = [study.ask(space.distributions) for _ in range(min(self.batch_size(), missing))]
            for trial in trials:
                trial.set_user_attr(SEARCH_ATTR, search_id)
            batch = [
                [*space.trial_overrides(trial.params), f"+{TRIAL_KEY}={trial.number}"] for trial in trials
            ]
            log.info(f"Trials {[t.number for t in trials]} of study {study.study_name} ({missing} to go)")
            returns = self.launcher.launch(batch, initial_job_idx=job_idx)
            job_idx += len(returns)
            failures = [self.tell(study, trial, job) for trial, job in zip(trials, returns, strict=True)]
            failures = [failure for failure in failures if failure is not None]
            if len(failures) > self.max_failure_rate * len(returns):
                self.save_results(study)
                raise RuntimeError(
                    f"{len(failures)} of {len(returns)} trials failed (hydra.sweeper.max_failure_rate="
                    f"{self.max_failure_rate}); the first: {failures[0]}"
                ) from failures[0]
            all_returns.append(returns)
        return all_returns

    def batch_size(self) -> int:
        """n_jobs trials at a time; joblib's spelling for all cores (-1) or all but k (-1 - k) too."""
        if self.n_jobs > 0:
            return self.n_jobs
        return max(1, (os.cpu_count() or 1) + 1 + self.n_jobs)

    def tell(self, study: optuna.Study, trial: optuna.trial.Trial, job) -> Exception | None:
        """Tells the study how the trial's job ended; the job's error if it failed."""
        if PRUNED_ATTR in stored_trial(study, trial.number).user_attrs:
            study.tell(trial.number, state=TrialState.PRUNED)
            return None
        try:
            value = job.return_value  # raises the job's own error if it failed
            if value is None:
                raise ValueError("train.py returned no value: is `optimized_metric` a metric the run logs?")
            study.tell(trial.number, float(value))
            return None
        except Exception as error:
            log.warning(f"Trial {trial.number} failed: {error}")
            study.tell(trial.number, state=TrialState.FAIL)
            return error

    def save_results(self, study: optuna.Study) -> None:
        """`optimization_results.yaml` beside the study: the best trial and how many ended how."""
        states = [trial.state for trial in study.get_trials(deepcopy=False)]
        results: dict[str, Any] = {"name": self.study_name, "direction": self.direction}
        results["trials"] = {
            state.name.lower(): states.count(state) for state in TrialState if state in states
        }
        if TrialState.COMPLETE in states:
            best = study.best_trial
            results |= {"best_trial": best.number, "best_params": best.params, "best_value": best.value}
            log.info(f"Best trial {best.number}: {best.value} with {best.params}")
        OmegaConf.save(OmegaConf.create(results), self.storage_path.parent / RESULTS_FILE)


def stored_trial(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    """The trial as the storage has it now, with what its job wrote."""
    return next(trial for trial in study.get_trials(deepcopy=False) if trial.number == number)


def finished_trials(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))
