"""Every network builds for the shapes it claims to support and returns one logit per class."""

import pytest
import torch

from {{ cookiecutter.package_name }}.nets.cnn import CNN
from {{ cookiecutter.package_name }}.nets.linear import LinearNet
from {{ cookiecutter.package_name }}.nets.mlp import MLP

IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


@pytest.mark.parametrize("net_class", [LinearNet, MLP, CNN])
@pytest.mark.parametrize("input_shape", IMAGE_SHAPES)
def test_output_is_one_logit_per_class(net_class, input_shape):
    net = net_class(input_shape=input_shape, num_classes=7).eval()
    assert net(torch.randn(5, *input_shape)).shape == (5, 7)


@pytest.mark.parametrize("net_class", [LinearNet, MLP])
def test_flat_networks_accept_tabular_input(net_class):
    net = net_class(input_shape=(13,), num_classes=3).eval()
    assert net(torch.randn(4, 13)).shape == (4, 3)


def test_cnn_rejects_flat_input_with_a_clear_message():
    with pytest.raises(ValueError, match=r"image-shaped input \(C, H, W\)"):
        CNN(input_shape=(64,), num_classes=10)
