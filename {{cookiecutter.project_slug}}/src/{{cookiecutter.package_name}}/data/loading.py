"""DataLoaders for splits held in memory as tensors, the same for every data module, and the
sampler that lets every DDP rank evaluate its own share of a split."""

import logging
import math
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler, TensorDataset

# `data.device`: where an in-memory split lives while it is trained on (see `resident_device`).
DEVICES = ("auto", "accelerator", "host")
# `auto` puts the splits on the GPU when they take at most this share of its free memory.
MOST_OF_FREE_MEMORY = 0.25

log = logging.getLogger(__name__)


class InMemoryDataset(TensorDataset):
    """A TensorDataset that the DataLoader indexes one whole batch at a time.

    Without `__getitems__`, the DataLoader looks up each sample in Python and stacks them again:
    for a batch of 128, 128 lookups and a collate, which costs more than a small network's step.
    """

    def __getitems__(self, indices: list[int] | torch.Tensor) -> tuple[torch.Tensor, ...]:
        # A tensor of indices (`DeviceBatches`) is already where the data is.
        index = indices if isinstance(indices, torch.Tensor) else torch.as_tensor(indices)
        # index_select, not tensor[index]: on CPU it is ~50x faster for image-shaped tensors.
        return tuple(tensor.index_select(0, index) for tensor in self.tensors)


def _already_a_batch(batch):
    return batch


def split_loader(
    dataset: Dataset,
    trainer,
    *,
    batch_size: int,
    shuffle: bool,
    num_workers: int = 0,
    pin_memory: bool | None = None,
    device: str = "host",
) -> DataLoader:
    """Training batches shuffled; validation and test in order, every sample once even under DDP.

    `device` (`data.device`): `host` keeps the split in host memory and copies each batch to the
    accelerator; `accelerator` moves the split to the trainer's device once and indexes each batch
    there (`DeviceBatches`); `auto` does so on a GPU when the split takes at most
    MOST_OF_FREE_MEMORY of its free memory. Only for `InMemoryDataset`s in a single process.

    `pin_memory=None` pins host memory when training on a CUDA GPU (faster copies to the device)
    and not on CPU, where pinning only costs. Workers persist across epochs instead of being
    started again for each one.

    A shuffled (training) split whose last batch would hold a single sample drops it each epoch:
    BatchNorm cannot train on one sample, and one sample's gradient is a step of noise.
    """
    drop_last = shuffle and last_batch_holds_one(len(dataset), batch_size, trainer)
    if drop_last:
        log.info(
            "train: %d samples at data.batch_size=%d leave a last batch of 1 sample; it is dropped "
            "each epoch (BatchNorm cannot train on one sample)",
            len(dataset),
            batch_size,
        )
    resident = resident_device(device, trainer, dataset)
    if resident is not None:
        dataset.tensors = tuple(tensor.to(resident) for tensor in dataset.tensors)
        # No copy per step: the batch is indexed where the data is, and Lightning's move is a no-op.
        batches = DeviceBatches(len(dataset), batch_size, shuffle, resident, drop_last)
        return DataLoader(dataset, batch_sampler=batches, collate_fn=_already_a_batch)
    if pin_memory is None:
        pin_memory = _on_cuda(trainer)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        sampler=None if shuffle else whole_split_sampler(trainer, dataset),
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        collate_fn=_already_a_batch if isinstance(dataset, InMemoryDataset) else None,
    )


def last_batch_holds_one(length: int, batch_size: int, trainer) -> bool:
    """Whether this rank's share of `length` samples ends in a batch of one. Under DDP each rank
    trains on ceil(length / world size) samples (Lightning's DistributedSampler pads the shares)."""
    world_size = trainer.world_size if trainer is not None else 1
    return math.ceil(length / world_size) % batch_size == 1 and batch_size > 1


def resident_device(setting: str, trainer, dataset: Dataset) -> torch.device | None:
    """The device the split should live on while batches are drawn from it; None: host memory."""
    if setting not in DEVICES:
        raise ValueError(f"data.device={setting!r}: use one of {', '.join(DEVICES)}")
    if setting == "host" or trainer is None or not isinstance(dataset, InMemoryDataset):
        return None
    # Under DDP Lightning gives each rank its sampler; debug=overfit replaces the sampler too.
    if trainer.world_size > 1 or trainer.overfit_batches:
        return None
    device = trainer.strategy.root_device
    if setting == "accelerator":
        return device
    if device.type != "cuda":
        return None
    free, _ = torch.cuda.mem_get_info(device)
    size = sum(tensor.nbytes for tensor in dataset.tensors)
    return device if size <= MOST_OF_FREE_MEMORY * free else None


class DeviceBatches(Sampler[torch.Tensor]):
    """Batches of indices into a split on `device`: each epoch's order is drawn on the host as
    torch's RandomSampler draws it (the same batches as `data.device=host`, from the same seed),
    copied to the device once, and sliced there. `drop_last` leaves out a last, shorter batch."""

    def __init__(
        self, length: int, batch_size: int, shuffle: bool, device: torch.device, drop_last: bool = False
    ) -> None:
        self.length, self.batch_size, self.shuffle, self.device = length, batch_size, shuffle, device
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[torch.Tensor]:
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(int(torch.empty((), dtype=torch.int64).random_().item()))
            order = torch.randperm(self.length, generator=generator)
        else:
            order = torch.arange(self.length)
        order = order.to(self.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield order[start : start + self.batch_size]

    def __len__(self) -> int:
        if self.drop_last:
            return self.length // self.batch_size
        return math.ceil(self.length / self.batch_size)


def _on_cuda(trainer) -> bool:
    if trainer is None:
        return False
    from lightning.pytorch.accelerators import CUDAAccelerator

    return isinstance(trainer.accelerator, CUDAAccelerator)


class WholeSplitSampler(DistributedSampler):
    """Rank r of n takes samples r, r + n, r + 2n, ...: the shares differ by at most one sample.

    torch's DistributedSampler pads the shares to equal length with repeated samples, so the
    validation and test metrics of a DDP run would count some samples twice. A DistributedSampler
    still, so that Lightning keeps it instead of putting its own in its place.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=False)
        self.share = range(rank, len(dataset), num_replicas)
        self.num_samples, self.total_size = len(self.share), len(dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(self.share)

    def __len__(self) -> int:
        return len(self.share)


def whole_split_sampler(trainer, dataset: Dataset) -> WholeSplitSampler | None:
    """This rank's share of `dataset` under DDP; None (the default sequential sampler) in a single
    process."""
    if trainer is None or trainer.world_size == 1:
        return None
    return WholeSplitSampler(dataset, num_replicas=trainer.world_size, rank=trainer.global_rank)
