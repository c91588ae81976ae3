"""Lightning's WandbLogger, offline when this machine has no W&B API key.

Without this, `wandb` online with no key stops with an error, and with a key but no network it
blocks for about 100 s before failing.
"""

import netrc
import os

from lightning.pytorch.loggers import WandbLogger


def has_wandb_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def wandb_logger(mode: str | None = None, **kwargs) -> WandbLogger:
    """`mode` is W&B's own (online/offline/disabled); None means online if a key is configured."""
    mode = mode or os.environ.get("WANDB_MODE")
    if mode is None and not has_wandb_key():
        mode = "offline"
        print("W&B: no API key (WANDB_API_KEY or `wandb login`), logging offline; `wandb sync` later.")
    # Passed to wandb.init, not set in os.environ, so it cannot leak into the next job of a sweep.
    return WandbLogger(mode=mode, **kwargs)
