"""What `@hydra.main` is given on the installed Hydra: 1.3 (the default install) or 1.4.

Hydra 1.3 needs `version_base="1.3"`: without it, it warns and behaves as Hydra 1.1 did (each run
changes into its directory, among others). Hydra 1.4 deprecates the parameter (it goes in 1.5;
the behaviour is then 1.4's own, which keeps 1.3's) and takes the execution whitelist instead:
run/trusted_targets.py.
"""

from typing import Any

import hydra

from ..run.trusted_targets import HAS_EXECUTION_WHITELIST, TRUSTED_TARGETS

HYDRA_1_4 = tuple(int(part) for part in hydra.__version__.split(".")[:2]) >= (1, 4)


def version_base() -> dict[str, str]:
    """For `@hydra.main`, `initialize_config_dir` and `compose`: 1.3's behaviour, where asked for."""
    return {} if HYDRA_1_4 else {"version_base": "1.3"}


def hydra_main_settings() -> dict[str, Any]:
    """Keyword arguments for `@hydra.main`: `version_base` on 1.3, the whitelist where Hydra has one."""
    whitelist = {"execution_whitelist": TRUSTED_TARGETS} if HAS_EXECUTION_WHITELIST else {}
    return {**version_base(), **whitelist}
