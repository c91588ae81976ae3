"""DataLoaders for splits held in memory as tensors, the same for every data module, and the
sampler that lets every DDP rank evaluate its own share of a split."""

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset


class InMemoryDataset(TensorDataset):
    """A TensorDataset that the DataLoader indexes one whole batch at a time.

    Without `__getitems__`, the DataLoader looks up each sample in Python and stacks them again:
    for a batch of 128, 128 lookups and a collate, which costs more than a small network's step.
    """

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(indices)
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
) -> DataLoader:
    """Training batches shuffled; validation and test in order, every sample once even under DDP.

    `pin_memory=None` pins host memory when training on a CUDA GPU (faster copies to the device)
    and not on CPU, where pinning only costs. Workers persist across epochs instead of being
    started again for each one.
    """
    if pin_memory is None:
        pin_memory = _on_cuda(trainer)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=None if shuffle else whole_split_sampler(trainer, dataset),
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        collate_fn=_already_a_batch if isinstance(dataset, InMemoryDataset) else None,
    )


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
