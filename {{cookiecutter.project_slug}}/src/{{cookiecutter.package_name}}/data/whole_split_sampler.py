"""Evaluation under DDP that sees every sample of a split exactly once."""

from torch.utils.data import Dataset, DistributedSampler


def whole_split_sampler(trainer, dataset: Dataset) -> DistributedSampler | None:
    """Each rank evaluates its own share of `dataset`, the shares differing by at most one sample.

    Lightning's default sampler pads the shares to equal length with repeated samples, so the
    validation and test metrics of a DDP run would count some samples twice. None (the default
    sequential sampler) in a single process.
    """
    if trainer is None or trainer.world_size == 1:
        return None
    from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler

    return UnrepeatedDistributedSampler(
        dataset, num_replicas=trainer.world_size, rank=trainer.global_rank, shuffle=False
    )
