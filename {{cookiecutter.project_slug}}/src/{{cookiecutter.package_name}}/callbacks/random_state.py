"""Random-number states kept in checkpoints, so that a resumed run continues exactly."""

import random

import lightning as L
import numpy as np
import torch


class RandomStateInCheckpoints(L.Callback):
    """Saves the torch, CUDA, numpy and Python generators with every checkpoint, and sets them
    back when training resumes from one.

    Without this, a run resumed from the end of epoch k shuffles epoch k+1 and draws its dropout
    masks from the generators as `seed_everything` left them, not as epoch k left them: the same
    seed gives other results after a crash than without one.
    """

    def state_dict(self) -> dict:
        # Called while a checkpoint is written at the end of an epoch: the states the next epoch
        # starts from (nothing draws random numbers between here and its shuffle).
        return {"rng_states": collect_states()}

    def load_state_dict(self, state_dict: dict) -> None:
        # Lightning loads callback states as fit resumes, after the model is built and before
        # the first epoch's shuffle; its sanity check runs with the random state isolated.
        if "rng_states" in state_dict:
            restore_states(state_dict["rng_states"])


def collect_states() -> dict:
    # Tensors, ints and tuples only: checkpoints must load with torch.load(weights_only=True).
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached_gaussian),
        "python": random.getstate(),
    }


def restore_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    kind, keys, position, has_gauss, cached_gaussian = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached_gaussian))
    random.setstate(states["python"])
