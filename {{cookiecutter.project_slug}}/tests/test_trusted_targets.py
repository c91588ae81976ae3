"""The `_target_`s a config may name: every config's are trusted, others are refused (Hydra 1.4)."""

import os
import subprocess
import sys
from collections import OrderedDict
from types import SimpleNamespace

import hydra
import pytest
from conftest import CONFIGS
from hydra.errors import InstantiationException
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.cli.hydra_versions import hydra_main_settings
from {{ cookiecutter.package_name }}.cli.value_checks import ConfigValueError
from {{ cookiecutter.package_name }}.models.for_data import model_for_data
from {{ cookiecutter.package_name }}.run.trusted_targets import (
    HAS_EXECUTION_WHITELIST,
    TRUSTED_TARGETS,
    instantiate,
    is_trusted,
)


def targets(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["_target_"]] if isinstance(node.get("_target_"), str) else []
        return own + [target for value in node.values() for target in targets(value)]
    if isinstance(node, list):
        return [target for value in node for target in targets(value)]
    return []


def test_every_target_a_config_names_is_trusted():
    named = {
        f"{path.relative_to(CONFIGS)}: {target}"
        for path in CONFIGS.rglob("*.yaml")
        for target in targets(OmegaConf.to_container(OmegaConf.load(path), resolve=False))
    }
    assert len(named) > 20, "the configs' targets were not found"
    assert [entry for entry in sorted(named) if not is_trusted(entry.split(": ")[1])] == []


def test_is_trusted_matches_as_hydra_does():
    assert is_trusted("torch.optim.SGD") and is_trusted("lightning.pytorch.callbacks.EarlyStopping")
    # `pkg.*` is the package's contents, not a longer name that starts alike.
    assert not is_trusted("torch.optimizers.SGD") and not is_trusted("torch.optim")
    assert not is_trusted("os.system") and not is_trusted("builtins.eval")
    # Hydra 1.4 deprecates it as a target; a factory is `_partial_: true` on the callable itself.
    assert not is_trusted("functools.partial")


def test_hydra_main_gets_the_whitelist_where_hydra_has_one():
    assert hasattr(hydra.utils, "execution_whitelist") == HAS_EXECUTION_WHITELIST
    if HAS_EXECUTION_WHITELIST:
        assert hydra_main_settings() == {"execution_whitelist": TRUSTED_TARGETS}
    else:
        assert hydra_main_settings() == {"version_base": "1.3"}


def test_a_target_outside_the_trusted_modules():
    untrusted = {"_target_": "collections.OrderedDict", "a": 1}
    if HAS_EXECUTION_WHITELIST:  # Hydra >= 1.4 refuses it
        with pytest.raises(InstantiationException, match="not in the Hydra execution whitelist"):
            instantiate(untrusted)
    else:  # Hydra 1.3 has no whitelist: built as ever
        assert instantiate(untrusted) == OrderedDict(a=1)
    assert instantiate({"_target_": "torch.nn.Identity"}).__class__.__name__ == "Identity"


def test_a_model_outside_the_trusted_modules_is_refused_before_its_module_is_imported():
    assert "tabnanny" not in sys.modules
    with pytest.raises(ConfigValueError, match="model._target_: tabnanny.NannyNag is not"):
        model_for_data(OmegaConf.create({"_target_": "tabnanny.NannyNag"}), SimpleNamespace())
    assert "tabnanny" not in sys.modules


def test_the_callers_environment_can_trust_modules_of_its_own():
    """EXTRA_TRUSTED_TARGETS (what the template's benchmarks set): patterns beyond the list."""
    check = (
        "from {{ cookiecutter.package_name }}.run.trusted_targets import is_trusted; "
        "print(is_trusted('lean_module.TensorSumClassifier'), is_trusted('os.system'))"
    )
    env = {**os.environ, "EXTRA_TRUSTED_TARGETS": "lean_module.* bench_clock.*"}
    extended = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert extended.stdout.split() == ["True", "False"], extended.stderr
    env.pop("EXTRA_TRUSTED_TARGETS")
    plain = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert plain.stdout.split() == ["False", "False"], plain.stderr
