"""A network added to a baked project as one .py and one .yaml is tested by the project's network
checks without new test code, and a broken one fails them by name."""

import subprocess

from conftest import BIN

NEW_NETWORK = """
from torch import nn


class TwoLayer(nn.Module):
    input_shapes = ((1, 8, 8), (13,))

    def __init__(self, input_shape, num_outputs, width=32):
        super().__init__()
        size = 1
        for dim in input_shape:
            size *= dim
        hidden = nn.Linear(size, width)
        self.layers = nn.Sequential(nn.Flatten(), hidden, nn.ReLU(), nn.Linear(width, num_outputs))

    def forward(self, x):
        return self.layers(x)
"""

# The bug the gradient check exists for: a hidden layer whose output is detached.
BROKEN_NETWORK = """
from torch import nn


class Detached(nn.Module):
    input_shapes = ((1, 8, 8),)

    def __init__(self, input_shape, num_outputs):
        super().__init__()
        self.hidden, self.out = nn.Linear(64, 32), nn.Linear(32, num_outputs)

    def forward(self, x):
        return self.out(self.hidden(x.flatten(1)).relu().detach())
"""


def add_network(project, name: str, module_text: str, class_name: str) -> None:
    (project / "src" / "digits_research" / "nets" / f"{name}.py").write_text(module_text)
    config = (project / "configs" / "model" / "mlp.yaml").read_text().split("net:")[0]
    target = f"digits_research.nets.{name}.{class_name}"
    config += f"net:\n  _target_: {target}\n  _partial_: true\ncompile: false\n"
    (project / "configs" / "model" / f"{name}.yaml").write_text(config)


def network_checks(project, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_nets.py", "-k", name],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PATH": str(BIN), "PYTHONPATH": "src", "WANDB_MODE": "offline"},
        timeout=300,
    )


def test_a_new_network_is_checked_and_a_broken_one_caught_by_name(bake):
    project = bake()
    add_network(project, "two_layer", NEW_NETWORK, "TwoLayer")
    add_network(project, "detached", BROKEN_NETWORK, "Detached")

    new = network_checks(project, "two_layer")
    assert new.returncode == 0 and "10 passed" in new.stdout, new.stdout[-2000:]

    broken = network_checks(project, "detached and config")
    assert broken.returncode != 0
    caught = "network 'detached' fails 'every parameter gets a gradient': hidden.weight gets none"
    assert caught in broken.stdout
