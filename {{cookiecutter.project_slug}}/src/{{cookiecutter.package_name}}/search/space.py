"""The search space, written in Hydra's override grammar, as Optuna distributions.

    model.optimizer.lr: tag(log, interval(0.0001, 0.1))  ->  FloatDistribution(1e-4, 0.1, log=True)
    model.net.dropout: interval(0.0, 0.5)                 ->  FloatDistribution(0.0, 0.5)
    data.batch_size: choice(32, 64, 128)                  ->  CategoricalDistribution((32, 64, 128))
    model.net.width: range(64, 257, 64)                   ->  IntDistribution(64, 256, step=64)

`tag(int, interval(1, 8))` samples whole numbers. A value that is not a sweep (`seed=1` in the
params or on the command line) is passed to every trial as it is.
"""

from dataclasses import dataclass

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, Transformer
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)


@dataclass
class SearchSpace:
    distributions: dict[str, BaseDistribution]
    # Overrides every trial gets as they are, e.g. ["debug=limit", "seed=1"].
    fixed: list[str]

    def trial_overrides(self, params: dict) -> list[str]:
        """The overrides of one trial: its sampled values (choices as Hydra's grammar encoded them),
        then the fixed ones."""
        return [f"{name}={value}" for name, value in params.items()] + self.fixed


def search_space(params: dict[str, str], arguments: list[str]) -> SearchSpace:
    """`params` (the config's) and the command line's `arguments`; on the command line, a key of
    the params with a plain value fixes it for this search, and a sweep replaces its range."""
    parsed = OverridesParser.create().parse_overrides([f"{key}={value}" for key, value in params.items()])
    parsed += OverridesParser.create().parse_overrides(arguments)
    distributions: dict[str, BaseDistribution] = {}
    fixed: dict[str, str] = {}
    for override in parsed:
        key = override.get_key_element()
        distributions.pop(key, None)
        fixed.pop(key, None)
        if override.is_sweep_override():
            distributions[key] = distribution(override)
        else:
            fixed[key] = f"{key}={override.get_value_element_as_str()}"
    return SearchSpace(distributions, list(fixed.values()))


def distribution(override: Override) -> BaseDistribution:
    sweep = override.value()
    tags = getattr(sweep, "tags", set())
    if override.is_choice_sweep():
        return CategoricalDistribution(tuple(override.sweep_iterator(transformer=Transformer.encode)))
    if override.is_interval_sweep():
        if "int" in tags:
            return IntDistribution(int(sweep.start), int(sweep.end), log="log" in tags)
        return FloatDistribution(float(sweep.start), float(sweep.end), log="log" in tags)
    if override.is_range_sweep() and not sweep.shuffle:
        # range's stop is exclusive, Optuna's high inclusive.
        if all(isinstance(bound, int) for bound in (sweep.start, sweep.stop, sweep.step)):
            high = sweep.start + (sweep.stop - 1 - sweep.start) // sweep.step * sweep.step
            return IntDistribution(sweep.start, high, step=sweep.step)
        values = list(override.sweep_iterator(transformer=Transformer.encode))
        return FloatDistribution(float(sweep.start), float(values[-1]), step=float(sweep.step))
    raise ValueError(
        f"hydra.sweeper.params: {override.input_line!r} is no search range; give "
        "interval(low, high), tag(log, interval(low, high)), choice(a, b, ...) or range(start, stop, step)"
    )
