"""The plain PyTorch loop that the project's training is compared with, as its own process.

    python benchmarks/plain_loop.py --workload digits-mlp --epochs 10 [--out result.json]

What it does is what the baked project does with `workloads.py`'s overrides, written out by hand:
the same split (stratified, split seed 0, 15 % validation, 15 % test) and normalisation (the
training split's mean and std), the same network layer by layer (BatchNorm and dropout included),
AdamW with the project's lr and weight decay, a cosine schedule over the run's epochs stepped
after each epoch, a DataLoader over a TensorDataset that reshuffles every epoch, validation loss
and accuracy after every epoch, and at the end the test split on the weights of the best
validation epoch. It writes no checkpoint and no log file: those are part of what the project's
cost is measured against. Its own timings (first step, each epoch) go to `--out` as JSON.
"""

import argparse
import copy
import json
import os
import time
from pathlib import Path

from workloads import (
    DROPOUT,
    LR,
    MNIST_VAL_FRACTION,
    SEED,
    SPLIT_SEED,
    TEST_FRACTION,
    VAL_FRACTION,
    WEIGHT_DECAY,
    WORKLOADS,
)

# Set by the harness just before it starts this process: time to the first step counts from there.
T0_ENV = "BENCH_T0"
MNIST_DIR_ENV = "BENCH_MNIST_DIR"
CIFAR_ARCHIVE_ENV = "BENCH_CIFAR_ARCHIVE"


def digits_splits(x, y) -> dict:
    """train/val/test as the digits data module makes them (validation as a fraction of the whole)."""
    from sklearn.model_selection import train_test_split

    x, test_x, y, test_y = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y, random_state=SPLIT_SEED
    )
    train_x, val_x, train_y, val_y = train_test_split(
        x, y, test_size=VAL_FRACTION / (1.0 - TEST_FRACTION), stratify=y, random_state=SPLIT_SEED
    )
    return {"train": (train_x, train_y), "val": (val_x, val_y), "test": (test_x, test_y)}


def official_splits(train_x, train_y, test_x, test_y) -> dict:
    """The official test set; validation a stratified share of the official training set, as the
    project's downloaded-data modules draw it (sorted indices, split seed 0)."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    train_idx, val_idx = train_test_split(
        np.arange(len(train_y)), test_size=MNIST_VAL_FRACTION, stratify=train_y, random_state=SPLIT_SEED
    )
    train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)
    return {
        "train": (train_x[train_idx], train_y[train_idx]),
        "val": (train_x[val_idx], train_y[val_idx]),
        "test": (test_x, test_y),
    }


def load_splits(data: str) -> tuple[dict, tuple[int, ...]]:
    """Tensors per split, normalised with the training split's statistics, and the input shape."""
    import torch

    if data == "digits":
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        splits, shape = digits_splits(x, y), (1, 8, 8)
        mean, std = float(splits["train"][0].mean()), float(splits["train"][0].std())
    elif data == "mnist-files":
        from mnist_files import read_mnist_files

        (train_x, train_y), (test_x, test_y) = read_mnist_files(Path(os.environ[MNIST_DIR_ENV]))
        splits, shape = official_splits(train_x, train_y, test_x, test_y), (1, 28, 28)
        # As the project's module: float32 pixels in [0, 1], normalised with the training split's
        # mean and (unbiased) std from torch.std_mean, all in float32.
        splits = {
            name: (torch.as_tensor(xs, dtype=torch.float32) / 255, ys) for name, (xs, ys) in splits.items()
        }
        std, mean = (float(value) for value in torch.std_mean(splits["train"][0]))
    elif data == "cifar-files":
        from cifar_files import read_cifar_archive

        (train_x, train_y), (test_x, test_y) = read_cifar_archive(Path(os.environ[CIFAR_ARCHIVE_ENV]))
        splits = official_splits(train_x, train_y, test_x, test_y)
        # As the project's module: float32 in [0, 1], each channel normalised with the training
        # split's mean and (unbiased) std, std kept away from zero.
        splits = {
            name: (torch.as_tensor(xs, dtype=torch.float32) / 255, ys) for name, (xs, ys) in splits.items()
        }
        std, mean = torch.std_mean(splits["train"][0], dim=(0, 2, 3))
        mean, std = mean.view(-1, 1, 1), std.clamp_min(1e-8).view(-1, 1, 1)
        tensors = {
            name: (xs.sub_(mean).div_(std), torch.as_tensor(ys, dtype=torch.long))
            for name, (xs, ys) in splits.items()
        }
        return tensors, (3, 32, 32)
    else:
        raise ValueError(f"unknown data {data!r}: use digits, mnist-files or cifar-files")
    tensors = {
        name: (
            torch.as_tensor((xs - mean) / std, dtype=torch.float32).view(-1, *shape),
            torch.as_tensor(ys, dtype=torch.long),
        )
        for name, (xs, ys) in splits.items()
    }
    return tensors, shape


def build_net(workload, input_shape: tuple[int, ...], num_classes: int = 10):
    """The project's MLP or CNN (src/<package>/nets/), layer for layer."""
    import math

    from torch import nn

    if workload.net == "mlp":
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(input_shape)
        for hidden in workload.hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(DROPOUT)]
            width = hidden
        return nn.Sequential(*layers, nn.Linear(width, num_classes))
    if workload.net == "cnn":
        blocks: list[nn.Module] = []
        in_channels, k = input_shape[0], workload.kernel_size
        for out_channels in workload.channels:
            blocks += [
                nn.Conv2d(in_channels, out_channels, k, padding=k // 2),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            in_channels = out_channels
        return nn.Sequential(
            *blocks,
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(DROPOUT),
            nn.Linear(in_channels, num_classes),
        )
    if workload.net == "resnet":
        return resnet(input_shape[0], workload.channels, num_classes)
    raise ValueError(f"unknown net {workload.net!r}: use mlp, cnn or resnet")


def resnet(in_channels: int, widths: tuple[int, ...], num_classes: int):
    """The project's ResNet (nets/resnet.py) with two blocks per stage: ResNet-18 for 64..512."""
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
            )
            self.shortcut = nn.Identity()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
                )
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.relu(self.body(x) + self.shortcut(x))

    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(inplace=True),
    ]
    cin = widths[0]
    for stage, width in enumerate(widths):
        for block in range(2):
            layers.append(Block(cin, width, 2 if stage > 0 and block == 0 else 1))
            cin = width
    return nn.Sequential(
        nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()), nn.Linear(cin, num_classes)
    )


def evaluate(net, batches, step, autocast) -> tuple[float, float]:
    """Mean loss and accuracy over a whole split; `step(x)` is the forward pass (layout, autocast),
    and the loss is computed under `autocast` too, as in a Lightning step."""
    import torch
    from torch.nn import functional as F

    net.eval()
    # Sums kept where the data is (0 + a tensor is that tensor): one read of each at the end.
    loss_sum, correct, count = 0, 0, 0
    with torch.inference_mode():
        for x, y in batches():
            logits = step(x)
            with autocast:
                loss_sum += F.cross_entropy(logits, y, reduction="sum")
            correct += (logits.argmax(1) == y).sum()
            count += len(y)
    return float(loss_sum) / count, float(correct) / count


def device_batches(x, y, batch_size: int, shuffle: bool):
    """A split held on the GPU, indexed a batch at a time there: no copy from the host per step."""
    import torch

    def batches():
        order = torch.randperm(len(y), device=x.device) if shuffle else torch.arange(len(y), device=x.device)
        drop_last = shuffle and len(y) % batch_size == 1
        for index in order.split(batch_size):
            if drop_last and len(index) == 1:
                break
            yield x.index_select(0, index), y.index_select(0, index)

    return batches


def train(workload, epochs: int, t0: float) -> dict:
    import math
    import random

    import numpy as np
    import torch
    from torch.nn import functional as F
    from torch.utils.data import DataLoader, TensorDataset

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    splits, shape = load_splits(workload.data)
    if device.type == "cuda" and workload.data == "cifar-files":
        # As the project's data.device=auto on a GPU: each split moved there once.
        batches = {
            name: device_batches(x.to(device), y.to(device), workload.batch_size, shuffle=name == "train")
            for name, (x, y) in splits.items()
        }
    else:
        # As the project's loaders: a last training batch of one sample is dropped (BatchNorm needs two).
        loaders = {
            name: DataLoader(
                TensorDataset(*tensors),
                batch_size=workload.batch_size,
                shuffle=name == "train",
                drop_last=name == "train" and len(tensors[1]) % workload.batch_size == 1,
                pin_memory=device.type == "cuda",
            )
            for name, tensors in splits.items()
        }
        batches = {name: _moved(loader, device) for name, loader in loaders.items()}
    net = build_net(workload, shape).to(device)
    if workload.channels_last:
        net = net.to(memory_format=torch.channels_last)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=workload.precision == "bf16-mixed")

    def step(x):
        if workload.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast:
            return net(x)

    optimizer = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    first_step_s, epoch_s, epoch_cpu_s, history = None, [], [], []
    best_acc, best_state = -1.0, None
    for epoch in range(epochs):
        start, cpu_start = time.perf_counter(), time.process_time()
        net.train()
        loss_sum = torch.zeros((), device=device)
        correct, count = torch.zeros((), dtype=torch.long, device=device), 0
        train_steps = 0
        for x, y in batches["train"]():
            train_steps += 1
            if first_step_s is None:
                first_step_s = time.time() - t0
            logits = step(x)
            with autocast:
                loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
            count += len(y)
        val_loss, val_acc = evaluate(net, batches["val"], step, autocast)
        scheduler.step()
        if val_acc > best_acc:  # strictly better, as the project's checkpoint callback decides
            best_acc, best_state = val_acc, copy.deepcopy(net.state_dict())
        row = {
            "epoch": epoch,
            "train/loss": float(loss_sum) / count,
            "train/acc": float(correct) / count,
            "val/loss": val_loss,
            "val/acc": val_acc,
        }
        history.append(row)
        print(" ".join(f"{key}={value:.4g}" for key, value in row.items()), flush=True)
        epoch_s.append(time.perf_counter() - start)
        epoch_cpu_s.append(time.process_time() - cpu_start)
    train_end_s = time.time() - t0
    net.load_state_dict(best_state)
    test_loss, test_acc = evaluate(net, batches["test"], step, autocast)
    test_end_s = time.time() - t0
    print(f"test/loss={test_loss:.4f} test/acc={test_acc:.4f}")
    return {
        "workload": workload.name,
        "epochs": epochs,
        "first_step_s": first_step_s,
        "train_end_s": train_end_s,
        "test_end_s": test_end_s,
        "epoch_s": epoch_s,
        "epoch_cpu_s": epoch_cpu_s,
        "history": history,
        "test/loss": test_loss,
        "test/acc": test_acc,
        "val/acc_best": best_acc,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "train_samples": len(splits["train"][1]),
        # Training and validation steps of one epoch: what a per-step cost is divided by.
        "steps_per_epoch": train_steps + math.ceil(len(splits["val"][1]) / workload.batch_size),
    }


def _moved(loader, device):
    """The loader's batches on `device` (a copy per batch from the host, as Lightning makes it)."""

    def batches():
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    return batches


def main(argv: list[str] | None = None) -> None:
    t0 = float(os.environ.get(T0_ENV, time.time()))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="digits-mlp")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, help="write timings and metrics here as JSON")
    parser.add_argument("--widths", help="the ResNet's stage widths, e.g. 8,16,32,64 (default: 64..512)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs {args.epochs}: give a whole number >= 1")
    workload = WORKLOADS[args.workload]
    if args.widths:
        workload = workload.resized(tuple(int(width) for width in args.widths.split(",")))
    result = train(workload, args.epochs, t0)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
