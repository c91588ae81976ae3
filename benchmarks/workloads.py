"""The training workloads compared: one definition read by both sides, the project and the plain loop.

Each workload fixes the data, the network, the batch size and the optimiser. `project_overrides`
set the baked project to exactly that; the plain loop (`plain_loop.py`) builds the same from the
same numbers. The project's defaults that a workload does not name (AdamW, lr 0.003, weight decay
1e-4, a cosine schedule over the run's epochs, dropout 0.1 after every BatchNorm+ReLU, split seed 0,
15 % validation and 15 % test, normalisation by the training split's mean and std) are repeated
here as numbers, so that a change of those defaults shows up as a mismatch in `tests/`.
"""

import dataclasses
from dataclasses import dataclass, field

MNIST_ROLES = ("train_images", "train_labels", "test_images", "test_labels")

# The baked project's defaults (configs/model/optimizer/adamw.yaml, configs/model/mlp.yaml,
# configs/data/digits.yaml, configs/train.yaml): both sides use these unless a workload says otherwise.
SEED = 42
LR = 0.003
WEIGHT_DECAY = 1e-4
DROPOUT = 0.1
VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
SPLIT_SEED = 0
MNIST_VAL_FRACTION = 0.1  # configs/data/mnist.yaml: a share of the official training set


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    # "digits" (scikit-learn's, in memory), "mnist-files" (IDX files the benchmark writes) or
    # "cifar-files" (a CIFAR-10-shaped archive the benchmark writes)
    data: str
    net: str  # "mlp", "cnn" or "resnet"
    batch_size: int
    hidden_sizes: tuple[int, ...] = ()  # mlp
    channels: tuple[int, ...] = ()  # cnn: its channels; resnet: the widths of its stages
    kernel_size: int = 3  # cnn
    # Lightning's precision setting; the plain loop autocasts to bfloat16 for "bf16-mixed".
    precision: str = "32"
    channels_last: bool = False
    # Extra project overrides, e.g. selecting the model config; epochs are added by `project_overrides`.
    overrides: tuple[str, ...] = field(default=())
    # A config file the project must have for this workload (e.g. its data set's); without it the
    # workload is reported as pending instead of measured.
    needs_config: str | None = None

    def resized(self, channels: tuple[int, ...]) -> "Workload":
        """The same workload with other widths: a tiny ResNet to try the GPU workload on a CPU."""
        return dataclasses.replace(self, channels=channels)

    def project_overrides(self, epochs: int, **values: str) -> list[str]:
        """The project run of this workload for `epochs` epochs, default callbacks and logger on.

        `trainer.min_epochs=epochs` keeps early stopping (still on, still evaluated every epoch)
        from ending a run before the epochs being timed; the config tree is not printed. `values`
        fill the placeholders of `overrides` (where the data files are, their checksums).
        """
        sizes = ",".join(map(str, self.hidden_sizes or self.channels))
        net_key = {"mlp": "model.net.hidden_sizes", "cnn": "model.net.channels", "resnet": "model.net.widths"}
        return [
            *(override.format(**values) for override in self.overrides),
            f"{net_key[self.net]}=[{sizes}]",
            f"data.batch_size={self.batch_size}",
            f"trainer.max_epochs={epochs}",
            f"trainer.min_epochs={epochs}",
            "extras.print_config=false",
        ]


WORKLOADS = {
    workload.name: workload
    for workload in (
        Workload(
            name="digits-mlp",
            description="sklearn digits 1257/270/270, MLP 64-64-128-64-10 with BatchNorm, batch 128",
            data="digits",
            net="mlp",
            batch_size=128,
            hidden_sizes=(64, 128, 64),
        ),
        Workload(
            name="digits-mlp-b8",
            description=(
                "the digits MLP at batch 8: 157 training and 34 validation steps an epoch, each too small "
                "to hide the host's per-step work (the per-step overhead workload)"
            ),
            data="digits",
            net="mlp",
            batch_size=8,
            hidden_sizes=(64, 128, 64),
        ),
        Workload(
            name="digits-cnn",
            description="sklearn digits 8x8, the project's CNN (32, 64 channels), batch 256 (interim)",
            data="digits",
            net="cnn",
            batch_size=256,
            channels=(32, 64),
            overrides=("model=cnn",),
        ),
        Workload(
            name="mnist-cnn",
            description=(
                "28x28 MNIST-format files written by the benchmark (benchmarks/mnist_files.py) and read "
                "through the project's data=mnist from a file:// mirror, the project's CNN, batch 256"
            ),
            data="mnist-files",
            net="cnn",
            batch_size=256,
            channels=(32, 64),
            # {data_dir}, {mirror} and the md5s are filled in by run.py once it has written the files.
            overrides=(
                "model=cnn",
                "data=mnist",
                "data.data_dir={data_dir}",
                "data.mirrors=[{mirror}]",
                *(f"data.files.{role}.md5={{md5_{role}}}" for role in MNIST_ROLES),
            ),
            needs_config="configs/data/mnist.yaml",
        ),
        Workload(
            name="cifar-resnet",
            description=(
                "the GPU workload: CIFAR-10-shaped images (benchmarks/cifar_files.py) through the project's "
                "data=cifar10 from a file:// mirror, held on the device (data.device=auto), ResNet-18 "
                "(model=resnet), batch 256, bf16-mixed, channels-last"
            ),
            data="cifar-files",
            net="resnet",
            batch_size=256,
            channels=(64, 128, 256, 512),
            precision="bf16-mixed",
            channels_last=True,
            overrides=(
                "model=resnet",
                "data=cifar10",
                "data.data_dir={data_dir}",
                "data.mirrors=[{mirror}]",
                "data.files.archive.md5={md5_archive}",
                "trainer.precision=bf16-mixed",
                "model.channels_last=true",
            ),
            needs_config="configs/model/resnet.yaml",
        ),
    )
}
