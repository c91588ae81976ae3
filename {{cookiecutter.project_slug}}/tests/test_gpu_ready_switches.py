"""Switches that make GPU runs faster, checked here on CPU: each reaches what it switches, and the
run still trains and leaves checkpoints that load without it."""

import subprocess
import sys

import pytest
import torch
from hydra.utils import instantiate
from torch._dynamo.utils import counters

from {{ cookiecutter.package_name }}.data.loaders import split_loader
from {{ cookiecutter.package_name }}.models.for_data import model_for_data
from train import train


def _state_dict(checkpoint: str) -> dict:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]


def test_compile_trains_and_its_checkpoint_loads_into_an_uncompiled_model(make_config):
    counters.clear()
    cfg = make_config("debug=limit", "model.compile=true")
    metrics, details = train(cfg)
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
    x = torch.randn(4, *datamodule.input_shape)
    torch.testing.assert_close(nhwc(x), nchw(x), rtol=1e-4, atol=1e-5)
    metrics, _ = train(make_config("debug=limit", "model=cnn", "model.channels_last=true"))
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


ALLOCATE_AND_FREE = """
import resource, sys, torch
from {{ cookiecutter.package_name }}.runtime.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
torch.empty(2**24).fill_(1)  # warm up: the first allocation faults in either case
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    # 64 MB, like a convolution's buffers for a batch: above the 32 MB up to which glibc adapts.
    torch.empty(2**24).fill_(1)
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")
def test_freed_memory_is_kept_for_the_next_step():
    def page_faults(mode: str) -> tuple[str, int]:
        out = subprocess.run(
            [sys.executable, "-c", ALLOCATE_AND_FREE, mode], capture_output=True, text=True, check=True
        ).stdout.split()
        return out[0], int(out[1])

    (_, returned), (applied, kept) = page_faults("return"), page_faults("keep")
    assert applied == "True"
    if kept >= returned / 2:
        # Other work on a busy machine can only add page faults (it once added 12 of 20 blocks'
        # worth to a CI run): the fewest of three runs is the allocator's own count.
        kept = min(kept, *(page_faults("keep")[1] for _ in range(2)))
    # Returned to the system, each 64 MB block faults its 16,384 pages in again; kept, it does not.
    assert returned > 20 * 10_000 and kept < returned / 2, (returned, kept)
