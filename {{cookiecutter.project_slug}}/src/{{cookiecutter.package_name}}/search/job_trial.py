"""The trial a search job trains: found in the study by the number the search gave the job."""

import optuna

from .storage import journal_storage

# The user attribute a job sets on its trial when the pruner stopped it: the search then tells
# the study the trial was pruned (search/study_search.py).
PRUNED_ATTR = "pruned_at_epoch"


def job_trial(
    storage_path: str, study_name: str, number: int, pruner: optuna.pruners.BasePruner
) -> optuna.trial.Trial:
    """Trial `number` of the study, on which this process may call `report` and `should_prune`.

    Built as `Trial(study, trial_id)` from the storage's id of that trial (BaseStorage's public
    lookup): Optuna's way to act on a trial another process asked. The search keeps the `tell`."""
    storage = journal_storage(storage_path)
    study = optuna.load_study(study_name=study_name, storage=storage, pruner=pruner)
    study_id = storage.get_study_id_from_name(study_name)
    return optuna.trial.Trial(study, storage.get_trial_id_from_study_id_trial_number(study_id, number))
