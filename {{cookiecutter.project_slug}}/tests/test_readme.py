"""Every `python train.py ...` example in the README composes, so the README cannot drift from the configs."""

import re
import shlex

import pytest
from conftest import ROOT

EXAMPLES = sorted(set(re.findall(r"python train\.py([^`\n#|]*)", (ROOT / "README.md").read_text())))
# Flags of the command line, not config overrides.
FLAGS = {"-m", "--multirun", "--cfg", "job", "..."}


def first_job(example: str) -> list[str]:
    """The overrides of the example's first job: `seed=1,2,3` under `-m` becomes `seed=1`."""
    args = shlex.split(example)
    sweep = "-m" in args or "--multirun" in args
    overrides = [arg for arg in args if arg not in FLAGS and "<" not in arg]
    return [re.sub(r"=([^,\[]*),.*", r"=\1", arg) if sweep else arg for arg in overrides]


@pytest.mark.parametrize("example", EXAMPLES, ids=str.strip)
def test_readme_example_composes(make_config, example):
    assert "_target_" in make_config(*first_job(example)).model


def test_readme_has_examples():
    assert len(EXAMPLES) >= 15
