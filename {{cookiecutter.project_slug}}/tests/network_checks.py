"""Checks every network must pass before it meets real data; each failure names the network, the
check, and what to look at. tests/test_nets.py runs them on every network config in
configs/model/, so a new network is tested the moment its .yaml exists."""

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

BuildNet = Callable[[], nn.Module]


class NetworkCheckFailed(AssertionError):
    def __init__(self, name: str, check: str, look_at: str) -> None:
        super().__init__(f"network '{name}' fails '{check}': {look_at}")


def fixed_batch(
    input_shape: Sequence[int], num_classes: int, size: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(size, *input_shape, generator=generator)
    y = torch.arange(size) % num_classes
    return x, y


def check_output_shape(name: str, build: BuildNet, input_shape, num_classes: int) -> None:
    x, _ = fixed_batch(input_shape, num_classes, size=5)
    shape = tuple(build().eval()(x).shape)
    if shape != (5, num_classes):
        raise NetworkCheckFailed(
            name,
            "output shape",
            f"a batch of 5 inputs of shape {tuple(input_shape)} gave {shape}, not "
            f"(5, {num_classes}): one logit per class per sample (check the last layer and any flatten/view)",
        )


def check_every_parameter_gets_a_gradient(name: str, build: BuildNet, input_shape, num_classes: int) -> None:
    net = build().train()
    x, y = fixed_batch(input_shape, num_classes)
    F.cross_entropy(net(x), y).backward()
    for parameter_name, parameter in net.named_parameters():
        if not parameter.requires_grad:
            continue
        if parameter.grad is None:
            raise NetworkCheckFailed(
                name,
                "every parameter gets a gradient",
                f"{parameter_name} gets none: is it used in forward, "
                "or cut off by .detach(), .data, torch.no_grad() or a non-differentiable operation?",
            )
        if not torch.isfinite(parameter.grad).all():
            raise NetworkCheckFailed(
                name,
                "every parameter gets a gradient",
                f"{parameter_name} has a NaN/infinite gradient: look "
                "for log/sqrt/division of values that can be 0 or negative",
            )
        if not parameter.grad.abs().sum() > 0:
            raise NetworkCheckFailed(
                name,
                "every parameter gets a gradient",
                f"{parameter_name} has an all-zero gradient: is it "
                "multiplied by 0, behind a dead ReLU, or initialised so that nothing flows?",
            )


def check_it_can_learn(name: str, build: BuildNet, input_shape, num_classes: int, steps: int = 100) -> None:
    """Fits one fixed batch: the loss must fall below 30 % of its start within `steps` Adam steps."""
    torch.manual_seed(0)
    net = build().train()
    x, y = fixed_batch(input_shape, num_classes)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    start = F.cross_entropy(net(x), y).item()
    loss = start
    for _ in range(steps):
        optimizer.zero_grad()
        loss_tensor = F.cross_entropy(net(x), y)
        loss_tensor.backward()
        optimizer.step()
        loss = loss_tensor.item()
        if loss < 0.3 * start:
            return
    raise NetworkCheckFailed(
        name,
        "it can learn",
        f"the loss on one fixed batch of 16 went from {start:.3f} to {loss:.3f} in {steps} "
        "Adam steps (lr 1e-2), not below 30 % of its start: look for a missing non-linearity, a frozen "
        "or detached layer, an output squashed to a narrow range, or too little capacity",
    )


def check_samples_are_independent(name: str, build: BuildNet, input_shape, num_classes: int) -> None:
    """In eval mode the output for sample 0 must not depend on any other sample of the batch."""
    net = build().eval()
    x, _ = fixed_batch(input_shape, num_classes, size=4)
    x.requires_grad_(True)
    net(x)[0].sum().backward()
    if x.grad[1:].abs().sum() > 0:
        raise NetworkCheckFailed(
            name,
            "samples are independent",
            "in eval mode the output for sample 0 changes with samples 1-3: "
            "something mixes the batch (a statistic over dim 0, a view/reshape that moves the batch "
            "dimension, normalisation that uses batch statistics in eval mode)",
        )


def check_same_seed_same_network(name: str, build: BuildNet, input_shape, num_classes: int) -> None:
    torch.manual_seed(123)
    first = build().eval()
    torch.manual_seed(123)
    second = build().eval()
    x, _ = fixed_batch(input_shape, num_classes, size=4)
    weights = zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    same_weights = all(torch.equal(a, b) for a, b in weights)
    if not (same_weights and torch.equal(first(x), second(x))):
        raise NetworkCheckFailed(
            name,
            "same seed, same network",
            "two builds after torch.manual_seed(123) differ: is some "
            "initialisation drawn from another generator (numpy, random, a fixed Generator without seed)?",
        )


CHECKS = {
    "output shape": check_output_shape,
    "every parameter gets a gradient": check_every_parameter_gets_a_gradient,
    "it can learn": check_it_can_learn,
    "samples are independent": check_samples_are_independent,
    "same seed, same network": check_same_seed_same_network,
}
