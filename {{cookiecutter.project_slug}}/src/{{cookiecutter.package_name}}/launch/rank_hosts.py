"""Which machine each DDP rank runs on, and which rank went away when a job fails.

At setup every rank tells the others its host and address, so that run.json can say where the
job ran (`hosts`, by rank), and so that a failed collective (a node lost, a rank killed or hung)
is recorded as one line naming the rank and host that went away, not as gloo's or NCCL's
wording about a socket.
"""

import re
import socket
from typing import Any

import lightning as L

# The error texts of a collective whose peer is gone: gloo's and NCCL's, torch's own timeouts.
LOST_PEER = re.compile(
    r"connection closed by peer|connection reset|broken pipe|timed out|timeout|"
    r"socket|remote process exited|nccl|gloo|dist(backend|store)error",
    re.IGNORECASE,
)
IPV4_AND_PORT = re.compile(r"\[?(\d{1,3}(?:\.\d{1,3}){3})\]?:\d+")


class RankWentAway(RuntimeError):
    """A rank of this job ended or stopped answering; the message names it and its host."""


def this_host() -> tuple[str, str]:
    """This machine's name and the address it resolves to, which gloo binds to."""
    host = socket.gethostname()
    try:
        address = socket.gethostbyname(host)
    except OSError:
        address = "127.0.0.1"
    return host, address


class RankHosts(L.Callback):
    """Gathers every rank's (host, address) at setup; `hosts[r]` is rank r's machine."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.addresses: list[str] = []

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        mine = this_host()
        if trainer.world_size == 1:
            gathered = [mine]
        else:
            import torch.distributed as dist

            gathered: list[Any] = [None] * trainer.world_size
            dist.all_gather_object(gathered, mine)
        self.hosts = [host for host, _ in gathered]
        self.addresses = [address for _, address in gathered]

    def went_away(self, error: BaseException, own_rank: int) -> str | None:
        """One line naming the rank(s) and host a failed collective lost; None for other errors."""
        if isinstance(error, RankWentAway):
            return str(error)  # rank 0 started the rank that went away, and knows how it ended
        if len(self.hosts) < 2:
            return None
        text = f"{type(error).__name__}: {error}"
        if not LOST_PEER.search(text):
            return None
        peers = set(IPV4_AND_PORT.findall(text))
        # The ranks at the addresses the error names; if it names none (a timeout), with two
        # ranks the other one.
        lost = [r for r, address in enumerate(self.addresses) if address in peers and r != own_rank]
        if not lost and len(self.hosts) == 2:
            lost = [1 - own_rank]
        first_line = next((line.strip() for line in str(error).splitlines() if line.strip()), text)
        if not lost:
            return f"a DDP rank went away (hosts by rank: {', '.join(self.hosts)}): {first_line}"
        return f"{lost_ranks(lost, self.hosts)} went away: {first_line}"


def lost_ranks(ranks: list[int], hosts: list[str]) -> str:
    """`DDP rank 1 on bh2`, `DDP ranks 2, 3 on bh2`."""
    by_host: dict[str, list[int]] = {}
    for rank in ranks:
        by_host.setdefault(hosts[rank] if rank < len(hosts) else "?", []).append(rank)
    parts = [
        f"{'rank' if len(on) == 1 else 'ranks'} {', '.join(map(str, on))} on {host}"
        for host, on in by_host.items()
    ]
    return "DDP " + "; ".join(parts)
