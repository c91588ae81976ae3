"""Checkpoints written whole or not at all."""

import os
from pathlib import Path
from typing import Any

from lightning.pytorch.plugins.io import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes `<name>.ckpt.tmp`, then renames it over `<name>.ckpt`.

    A rename within one directory is atomic: a run killed while saving (SIGKILL, preemption, a
    full disk) leaves the previous `last.ckpt` intact for `ckpt_path=last`, never half a file.
    Remote paths (`s3://...`) are written as Lightning writes them.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if "://" in str(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        path = Path(path)
        partial = path.with_name(path.name + ".tmp")
        super().save_checkpoint(checkpoint, partial, storage_options)
        os.replace(partial, path)
