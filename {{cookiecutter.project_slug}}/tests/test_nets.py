"""Every network builds for the shapes it claims to support, and every network config passes the
checks of network_checks.py (gradients reach every parameter, it can learn, samples stay apart)."""

import pytest
import torch
from conftest import CONFIGS, config_options
from hydra.utils import instantiate
from network_checks import CHECKS, NetworkCheckFailed
from omegaconf import OmegaConf
from torch import nn

from {{ cookiecutter.package_name }}.nets.cnn import CNN
from {{ cookiecutter.package_name }}.nets.linear import LinearNet
from {{ cookiecutter.package_name }}.nets.mlp import MLP

IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


@pytest.mark.parametrize("net_class", [LinearNet, MLP, CNN])
@pytest.mark.parametrize("input_shape", IMAGE_SHAPES)
def test_output_is_one_logit_per_class(net_class, input_shape):
    net = net_class(input_shape=input_shape, num_outputs=7).eval()
    assert net(torch.randn(5, *input_shape)).shape == (5, 7)


@pytest.mark.parametrize("net_class", [LinearNet, MLP])
def test_flat_networks_accept_tabular_input(net_class):
    net = net_class(input_shape=(13,), num_outputs=3).eval()
    assert net(torch.randn(4, 13)).shape == (4, 3)


def test_cnn_rejects_flat_input_with_a_clear_message():
    with pytest.raises(ValueError, match=r"image-shaped input \(C, H, W\)"):
        CNN(input_shape=(64,), num_outputs=10)


# Every model config with a `net:` is checked: a new network is tested once its .yaml exists.
NETWORK_MODELS = [
    name for name in config_options("model") if "net" in OmegaConf.load(CONFIGS / "model" / f"{name}.yaml")
]


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("model", NETWORK_MODELS)
def test_every_network_config_passes_the_network_checks(make_config, model, check):
    cfg = make_config(f"model={model}")
    datamodule = instantiate(cfg.data)  # the input shape comes from the data, as in training
    make_net = instantiate(cfg.model.net)
    shape, classes = datamodule.input_shape, datamodule.num_classes
    CHECKS[check](model, lambda: make_net(input_shape=shape, num_outputs=classes), shape, classes)


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
