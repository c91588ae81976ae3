"""Every network builds for the input shapes it declares (`input_shapes`), and every network
config passes the checks of network_checks.py on each of them (gradients reach every parameter,
it can learn, samples stay apart)."""

import pytest
import torch
from conftest import CONFIGS, config_options
from hydra.utils import get_class
from network_checks import CHECKS, NetworkCheckFailed
from omegaconf import OmegaConf
from torch import nn

from {{ cookiecutter.package_name }}.nets.class_prior import ClassPrior
from {{ cookiecutter.package_name }}.nets.cnn import CNN
from {{ cookiecutter.package_name }}.nets.linear import LinearNet
from {{ cookiecutter.package_name }}.nets.mlp import MLP
from {{ cookiecutter.package_name }}.run.trusted_targets import instantiate

NETS = [LinearNet, MLP, CNN, ClassPrior]


@pytest.mark.parametrize(
    ("net_class", "input_shape"),
    [(net, shape) for net in NETS for shape in net.input_shapes],
    ids=lambda value: value.__name__ if isinstance(value, type) else "x".join(map(str, value)),
)
def test_output_is_one_value_per_output(net_class, input_shape):
    net = net_class(input_shape=input_shape, num_outputs=7).eval()
    assert net(torch.randn(5, *input_shape)).shape == (5, 7)


def test_cnn_rejects_flat_input_with_a_clear_message():
    with pytest.raises(ValueError, match=r"image-shaped input \(C, H, W\)"):
        CNN(input_shape=(64,), num_outputs=10)


def network_configs() -> list[tuple[str, tuple[int, ...]]]:
    """(model config, input shape) for every model config with a `net:` and every shape its network
    declares: a new network is tested once its .yaml exists, on the shapes it is meant for."""
    cases = []
    for name in config_options("model"):
        net = OmegaConf.load(CONFIGS / "model" / f"{name}.yaml").get("net")
        if net is not None:
            # None: the network declares no shapes, and its test says so.
            cases += [(name, shape) for shape in getattr(get_class(net["_target_"]), "input_shapes", [None])]
    return cases


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize(
    ("model", "shape"), network_configs(), ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else v
)
def test_every_network_config_passes_the_network_checks(make_config, model, shape, check):
    net = make_config(f"model={model}").model.net
    if shape is None:
        pytest.fail(f"{net['_target_']} declares no input_shapes: add e.g. `input_shapes = ((1, 8, 8),)`")
    make_net = instantiate(net)
    CHECKS[check](model, lambda: make_net(input_shape=shape, num_outputs=10), shape, 10)


class DetachedHidden(nn.Module):
    """A bug seen in the wild: a layer whose output is detached, so it never learns."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden, self.out = nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x.flatten(1))).detach())


class MixesTheBatch(nn.Module):
    """Another: normalising with statistics over the batch, also at evaluation."""

    def __init__(self) -> None:
        super().__init__()
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.out(x - x.mean(dim=0))


def test_a_detached_layer_is_caught_by_name():
    with pytest.raises(
        NetworkCheckFailed,
        match=r"network 'detached' fails 'every parameter gets a gradient': hidden.weight gets none",
    ):
        CHECKS["every parameter gets a gradient"]("detached", DetachedHidden, (1, 8, 8), 10)


def test_a_batch_mixing_layer_is_caught_by_name():
    with pytest.raises(NetworkCheckFailed, match=r"network 'mixer' fails 'samples are independent'"):
        CHECKS["samples are independent"]("mixer", MixesTheBatch, (1, 8, 8), 10)
