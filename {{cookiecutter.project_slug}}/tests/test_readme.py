"""Every `python train.py ...` example in the README composes, so the README cannot drift from the configs."""

import fnmatch
import re
import shlex

import pytest
from conftest import ROOT, config_options

EXAMPLES = sorted(set(re.findall(r"python train\.py([^`\n#|]*)", (ROOT / "README.md").read_text())))
# Flags of the command line, not config overrides.
FLAGS = {"-m", "--multirun", "--cfg", "job", "..."}


def first_job(example: str) -> list[str]:
    """The overrides of the example's first job: `seed=1,2,3` under `-m` becomes `seed=1`."""
    args = shlex.split(example)
    sweep = "-m" in args or "--multirun" in args
    overrides = [arg for arg in args if arg not in FLAGS and "<" not in arg]
    return [first_value(arg) if sweep else arg for arg in overrides]


def first_value(override: str) -> str:
    """`seed=1,2,3` -> `seed=1`; `experiment=glob(ablation_*)` -> the first matching option."""
    key, _, value = override.partition("=")
    pattern = re.fullmatch(r"glob\((.*)\)", value)
    if pattern:
        return f"{key}={fnmatch.filter(config_options(key), pattern.group(1))[0]}"
    return f"{key}={value.split(',')[0]}" if not value.startswith("[") else override


@pytest.mark.parametrize("example", EXAMPLES, ids=str.strip)
def test_readme_example_composes(make_config, example):
    assert "_target_" in make_config(*first_job(example)).model


def test_readme_has_examples():
    assert len(EXAMPLES) >= 15
