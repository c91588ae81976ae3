"""The modules a config may name as `_target_`: Hydra 1.4's execution whitelist.

A `_target_` is code that a yaml file or a command-line override chooses to run. Hydra 1.4 checks
every target that `instantiate` resolves (and every class Hydra's logging config names) against a
whitelist that trusted code passes in; a config cannot widen it. Without one it warns, and Hydra
1.5 will refuse. train.py and eval.py pass TRUSTED_TARGETS to `@hydra.main`, which covers the whole
run: the task, Hydra's callbacks, sweepers and launchers in every job (cli/hydra_versions.py).
`instantiate` below carries it to code that builds objects outside `@hydra.main` (the tests, a
notebook that composes a config).

Hydra 1.3 (the default install) has no whitelist, only a short blocklist: there the list changes
nothing but `is_trusted`, which model_for_data checks before it imports a model's class.

A config that names a target from another package (a loss in `torch.nn`, a scheduler elsewhere)
needs its package added here; tests/test_trusted_targets.py names any config target left out.
Code outside the project that names its own modules (the template's benchmarks) sets
EXTRA_TRUSTED_TARGETS instead.
"""

import os
from typing import Any

import hydra.utils

# Patterns trusted beyond the list below, space-separated ("lean_module.* bench_clock.*"): for
# tooling that runs train.py with modules of its own on PYTHONPATH (benchmarks/, a notebook's
# helpers). The caller's environment sets it, as it sets PYTHONPATH; a config cannot.
EXTRA_TRUSTED_TARGETS = "EXTRA_TRUSTED_TARGETS"

TRUSTED_TARGETS = (
    # The project's own data modules, models, networks, callbacks, loggers and Hydra callback.
    "{{ cookiecutter.package_name }}.*",
    # Trainer, callbacks, loggers, profilers and plugins.
    "lightning.pytorch.*",
    # Optimizers and learning-rate schedulers (`_partial_: true`: the module builds them).
    "torch.optim.*",
    # Losses and layers, and metrics: what a research config names next.
    "torch.nn.*",
    "torchmetrics.*",
    # trainer=ddp's collective timeout (DDPStrategy's `timeout`).
    "datetime.timedelta",
{%- if cookiecutter.include_optuna == "yes" %}
    # The search's sampler and pruner (hparams_search=..., hydra/sweeper/pruner=...).
    "optuna.samplers.*",
    "optuna.pruners.*",
{%- endif %}
{%- if cookiecutter.include_slurm == "yes" %}
    # hydra/launcher=slurm: the project's own launcher plugin (it watches the jobs it submits).
    "hydra_plugins.{{ cookiecutter.package_name }}_slurm.*",
{%- endif %}
) + tuple(os.environ.get(EXTRA_TRUSTED_TARGETS, "").split())

# Hydra >= 1.4 has it; 1.3 has no whitelist to pass.
HAS_EXECUTION_WHITELIST = hasattr(hydra.utils, "execution_whitelist")


def instantiate(config: Any, *args: Any, **kwargs: Any) -> Any:
    """`hydra.utils.instantiate`, checked against TRUSTED_TARGETS on Hydra >= 1.4, also where no
    `@hydra.main` set the whitelist."""
    if HAS_EXECUTION_WHITELIST:
        kwargs["_execution_whitelist_"] = TRUSTED_TARGETS
    return hydra.utils.instantiate(config, *args, **kwargs)


def is_trusted(target: str) -> bool:
    """Whether Hydra 1.4 would let a config name `target`: an entry, or a name under a `pkg.*` one."""
    return any(
        target.startswith(pattern[:-1]) if pattern.endswith(".*") else target == pattern
        for pattern in TRUSTED_TARGETS
    )
