"""Switches that make GPU runs faster, checked here on CPU: each reaches what it switches, and the
run still trains and leaves checkpoints that load without it."""

import pytest
import torch
from torch._dynamo.utils import counters

from {{ cookiecutter.package_name }}.data.loading import split_loader
from {{ cookiecutter.package_name }}.models.for_data import model_for_data
from {{ cookiecutter.package_name }}.run.trusted_targets import instantiate
from train import train


def _state_dict(checkpoint: str) -> dict:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]


def test_compile_trains_and_its_checkpoint_loads_into_an_uncompiled_model(make_config):
    counters.clear()
    cfg = make_config("debug=limit", "model.compile=true")
    run = train(cfg)
    metrics, details = run.metrics, run.details
    assert counters["stats"]["unique_graphs"] > 0, "torch.compile never compiled a graph"
    assert torch.isfinite(torch.tensor(metrics["train/loss"]))
    cfg.model.compile = False
    datamodule = instantiate(cfg.data)
    uncompiled = model_for_data(cfg.model, datamodule)
    # strict: no `_orig_mod.` prefixes from the compiled wrapper in the saved weights.
    uncompiled.load_state_dict(_state_dict(details["best_checkpoint"]), strict=True)


def test_channels_last_keeps_the_results_of_the_usual_layout(make_config):
    torch.manual_seed(0)
    cfg = make_config("model=cnn", "model.channels_last=true")
    datamodule = instantiate(cfg.data)
    nhwc = model_for_data(cfg.model, datamodule).eval()
    conv = next(m for m in nhwc.net.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    cfg.model.channels_last = False
    nchw = model_for_data(cfg.model, datamodule).eval()
    nchw.load_state_dict(nhwc.state_dict())
    x = torch.randn(4, *datamodule.contract.input_shape)
    torch.testing.assert_close(nhwc(x), nchw(x), rtol=1e-4, atol=1e-5)
    metrics = train(make_config("debug=limit", "model=cnn", "model.channels_last=true")).metrics
    assert 0.0 <= metrics["test/acc"] <= 1.0


@pytest.mark.parametrize("precision", ["high", "medium", "highest"])
def test_float32_matmul_precision_is_set_for_the_run(make_config, precision):
    try:
        train(make_config("debug=fdr", f"float32_matmul_precision={precision}"))
        assert torch.get_float32_matmul_precision() == precision
    finally:
        torch.set_float32_matmul_precision("highest")


class _Trainer:
    def __init__(self, accelerator):
        self.accelerator, self.world_size = accelerator, 1


def test_memory_is_pinned_on_cuda_only_unless_configured():
    from lightning.pytorch.accelerators import CPUAccelerator, CUDAAccelerator

    dataset = torch.utils.data.TensorDataset(torch.zeros(4, 2))
    pinned = {
        (name, configured): split_loader(
            dataset, _Trainer(accelerator), batch_size=2, shuffle=True, pin_memory=configured
        ).pin_memory
        for name, accelerator in (("cuda", CUDAAccelerator()), ("cpu", CPUAccelerator()))
        for configured in (None, True, False)
    }
    assert pinned == {
        ("cuda", None): True,
        ("cuda", True): True,
        ("cuda", False): False,
        ("cpu", None): False,
        ("cpu", True): True,
        ("cpu", False): False,
    }
