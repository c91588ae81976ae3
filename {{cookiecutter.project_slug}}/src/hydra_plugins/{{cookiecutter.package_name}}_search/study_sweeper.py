"""Registers `hydra/sweeper={{ cookiecutter.package_name }}_optuna`, the project's Optuna search.

Hydra accepts plugins only inside the `hydra_plugins` namespace package, and imports every module
here whenever it starts (`--help` too): this module holds the config and a thin Sweeper class;
Optuna and the search loop ({{ cookiecutter.package_name }}/search/) are imported once a search runs.
The name carries the package's, so that it never clashes with hydra-optuna-sweeper's `optuna`.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import MISSING, DictConfig

NAME = "{{ cookiecutter.package_name }}_optuna"


@dataclass
class StudySweeperConf:
    _target_: str = "hydra_plugins.{{ cookiecutter.package_name }}_search.study_sweeper.StudySweeper"
    # The sampler and pruner arrive as configs, and the search builds them against the project's
    # trusted targets: Hydra 1.4 builds a plugin's nested targets no more (hydra#3269); 1.3 alike.
    _recursive_: bool = False
    # The pruner is a config group: hydra/sweeper/pruner=median|successive_halving|hyperband|none.
    defaults: list[Any] = field(default_factory=lambda: [{"pruner": "median"}])
    study_name: str = "study"
    # The study's journal file (Optuna's JournalStorage): continued by the same command.
    storage: str = "${hydra.sweep.dir}/optuna.journal"
    direction: str = "maximize"
    # Finished (completed or pruned) trials the study should hold: the same command after a crash
    # runs only the missing ones.
    n_trials: int = 20
    # Trials launched together, one batch at a time: as many as the launcher runs at once.
    n_jobs: int = 1
    # The fraction of a batch's trials that may fail before the search stops.
    max_failure_rate: float = 0.0
    sampler: Any = field(default_factory=lambda: {"_target_": "optuna.samplers.TPESampler"})
    pruner: Any = MISSING  # from the config group
    # key: a sweep of Hydra's override grammar, e.g. `tag(log, interval(0.0001, 0.1))`, `choice(32, 64)`.
    params: dict[str, str] = field(default_factory=dict)


class StudySweeper(Sweeper):
    """Hydra's side of the search; the search itself is in search/study_search.py."""

    def __init__(self, **settings: Any) -> None:
        from {{ cookiecutter.package_name }}.search.study_search import StudySearch

        self.search = StudySearch(**settings)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.search.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.search.sweep(arguments)


ConfigStore.instance().store(
    group="hydra/sweeper", name=NAME, node=StudySweeperConf, provider="{{ cookiecutter.package_name }}"
)
