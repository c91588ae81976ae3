"""Evaluation under DDP that sees every sample of a split exactly once."""

from collections.abc import Iterator

from torch.utils.data import Dataset, DistributedSampler


class WholeSplitSampler(DistributedSampler):
    """Rank r of n takes samples r, r + n, r + 2n, ...: the shares differ by at most one sample.

    torch's DistributedSampler pads the shares to equal length with repeated samples, so the
    validation and test metrics of a DDP run would count some samples twice. A DistributedSampler
    still, so that Lightning keeps it instead of putting its own in its place.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=False)
        self.num_samples = len(range(rank, len(dataset), num_replicas))
        self.total_size = len(dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.total_size, self.num_replicas))

    def __len__(self) -> int:
        return self.num_samples


def whole_split_sampler(trainer, dataset: Dataset) -> WholeSplitSampler | None:
    """This rank's share of `dataset` under DDP; None (the default sequential sampler) in a single
    process."""
    if trainer is None or trainer.world_size == 1:
        return None
    return WholeSplitSampler(dataset, num_replicas=trainer.world_size, rank=trainer.global_rank)
