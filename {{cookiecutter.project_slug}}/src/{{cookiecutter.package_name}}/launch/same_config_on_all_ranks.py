"""Stop a DDP run whose ranks were started with different configs, before any step is taken."""

import hashlib
import json

import lightning as L
from omegaconf import DictConfig, OmegaConf


def config_digest(cfg: DictConfig, seed: int) -> str:
    """The resolved config with the seed actually used; `ckpt_path` may be spelled differently
    (`last` on rank 0, the file it resolved to on the others) for the same checkpoint."""
    config = OmegaConf.to_container(cfg, resolve=True)
    config.pop("ckpt_path", None)
    config["seed"] = seed
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


class SameConfigOnAllRanks(L.Callback):
    """DDP averages gradients whatever each rank trains: ranks with different hyper-parameters
    (Lightning re-running an Optuna sweep per rank, say) would give a silently wrong result."""

    def __init__(self, cfg: DictConfig, seed: int) -> None:
        self.digest = config_digest(cfg, seed)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.world_size == 1:
            return
        import torch.distributed as dist

        digests: list[str | None] = [None] * trainer.world_size
        dist.all_gather_object(digests, self.digest)
        differing = [rank for rank, digest in enumerate(digests) if digest != digests[0]]
        if differing:
            # Raised on every rank alike, so that none waits forever for the others.
            raise RuntimeError(
                f"DDP ranks {differing} were started with a different config or seed than rank 0; "
                "start every rank with the same config (trainer=ddp does: see README, DDP)"
            )
