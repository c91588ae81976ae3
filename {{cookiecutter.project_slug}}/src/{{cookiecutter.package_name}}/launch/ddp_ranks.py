"""DDP on one machine that is safe inside sweeps: a job starts the other ranks of itself.

Lightning's default starts rank k by re-running the command line. Inside `-m` that re-runs the
whole sweep, writes a second sweep directory, and under Optuna trains other hyper-parameters on
each rank. Here, as torchrun would, rank 0 of a job starts ranks 1..N-1 of that one job from the
config it is running, with its seed and its checkpoint to resume, and tells Lightning through
`LOCAL_RANK` that the processes exist, so Lightning launches nothing. Under SLURM, srun starts one
task per rank and nothing is started here either.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig, OmegaConf

from ..cli.pasted_paths import hydra_quoted

# Strategies whose processes Lightning would start by re-running the command line.
SUBPROCESS_STRATEGIES = ("ddp", "ddp_find_unused_parameters_true", "ddp_find_unused_parameters_false")
# Long enough for a rank that is still writing its logs; a rank still alive after it is stuck.
CHILD_EXIT_TIMEOUT_S = 120
# Rank 0's collective fails as a killed rank's socket closes; its exit status follows at once.
EXIT_STATUS_WAIT_S = 2.0
# After rank 0 failed: a rank told to stop (SIGTERM) that has not within this is killed. Lightning
# handles SIGTERM in the ranks, which may then wait in a collective for the rank 0 that is gone.
FAILED_CHILD_GRACE_S = 5


def ranks_per_node(trainer_cfg: DictConfig) -> int:
    """How many processes Lightning would run on this node for the `trainer` config."""
    devices = trainer_cfg.get("devices", "auto")
    if isinstance(devices, (list, tuple, ListConfig)):
        return len(devices)
    if isinstance(devices, str) and "," in devices:
        return len([index for index in devices.split(",") if index.strip()])  # "0,1": GPUs 0 and 1
    if isinstance(devices, str) and devices.strip().isdigit():
        devices = int(devices)
    if isinstance(devices, int) and devices > 0:
        return devices
    if trainer_cfg.get("accelerator") in ("gpu", "cuda", "auto"):
        import torch

        return max(torch.cuda.device_count(), 1)
    return 1


def started_by_a_launcher() -> bool:
    """torchrun, an earlier call of this module, or SLURM's srun already started every rank."""
    from lightning.fabric.plugins.environments import SLURMEnvironment

    return "LOCAL_RANK" in os.environ or SLURMEnvironment.detect()


def relaunches_command_line(strategy) -> bool:
    """Strategies for which Lightning would start the other ranks by re-running the command line."""
    if isinstance(strategy, DictConfig):
        target = str(strategy.get("_target_", ""))
        return target.endswith("DDPStrategy") and strategy.get("start_method", "popen") == "popen"
    return str(strategy) in SUBPROCESS_STRATEGIES


def ranks_to_start(trainer_cfg: DictConfig) -> int:
    """0 unless this process must start the other ranks of a DDP job itself."""
    strategy = trainer_cfg.get("strategy", "auto")
    if strategy in (None, "auto") and ranks_per_node(trainer_cfg) > 1:
        strategy = "ddp"  # what Lightning picks for several devices
    if not relaunches_command_line(strategy) or started_by_a_launcher():
        return 0
    if int(trainer_cfg.get("num_nodes", 1)) > 1:
        raise ValueError(
            f"trainer.num_nodes={trainer_cfg.num_nodes} needs one process per node started by a cluster "
            "launcher: use hydra/launcher=slurm with hydra.launcher.nodes set (or torchrun)"
        )
    return ranks_per_node(trainer_cfg) - 1


@contextmanager
def other_ranks_started(cfg: DictConfig, **settled: Any) -> Iterator[None]:
    """Within the block this process is rank 0 of `trainer.devices` processes of this job.

    `settled`: values rank 0 decided that the config leaves open (the seed drawn for `seed=null`,
    the checkpoint `ckpt_path=last` found), given to the other ranks as overrides.
    """
    count = ranks_to_start(cfg.trainer)
    if count == 0:
        try:
            yield
        finally:
            # Also in ranks started by srun or by rank 0: a group still open at exit aborts Python.
            _destroy_process_group()
        return
    rendezvous = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), "NODE_RANK": "0"}
    saved_env = {name: os.environ.get(name) for name in [*rendezvous, "LOCAL_RANK"]}
    with tempfile.TemporaryDirectory(prefix="ddp_config_") as config_dir:
        # The config this job runs, not the command line: every rank trains what rank 0 trains,
        # with the values rank 0 settled written in (no quoting of paths on a command line).
        resolved = OmegaConf.to_container(cfg, resolve=True)
        resolved.update(settled)
        OmegaConf.save(OmegaConf.create(resolved), Path(config_dir) / "config.yaml")
        children = [
            subprocess.Popen(
                _rank_command(config_dir, rank),
                env={**os.environ, **rendezvous, "LOCAL_RANK": str(rank)},
            )
            for rank in range(1, count + 1)
        ]
        os.environ.update({**rendezvous, "LOCAL_RANK": "0"})
        succeeded = False
        try:
            yield
            succeeded = True
        except Exception as error:
            gone = _gone(children)
            if gone:
                from .rank_hosts import RankWentAway, lost_ranks  # imports Lightning

                # The rank that went away, not the socket error it left rank 0 with.
                first_line = next((line for line in str(error).splitlines() if line.strip()), repr(error))
                hosts = [socket.gethostname()] * (count + 1)
                raise RankWentAway(
                    f"{lost_ranks(sorted(gone), hosts)} went away ({', '.join(gone.values())}): {first_line}"
                ) from error
            raise
        finally:
            _restore(saved_env)
            _destroy_process_group()
            _stop(children, succeeded)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for the ranks' rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))  # port 0: the system picks a free one
        return probe.getsockname()[1]


def _rank_command(config_dir: str, rank: int) -> list[str]:
    hydra_cfg = HydraConfig.get()
    # The entry script (train.py) by the job's name: in a joblib worker sys.argv is not the script's.
    script = Path(os.environ["PROJECT_ROOT"]) / f"{hydra_cfg.job.name}.py"
    return [
        sys.executable,
        str(script),
        f"--config-path={config_dir}",
        "--config-name=config",
        f"hydra.run.dir={hydra_quoted(hydra_cfg.runtime.output_dir)}",
        # Rank 0 owns .hydra/ and the run's log; this rank logs to a file of its own.
        "hydra.output_subdir=null",
        f"hydra.job.name={hydra_cfg.job.name}_rank{rank}",
    ]


def _restore(saved_env: dict[str, str | None]) -> None:
    for name, value in saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _destroy_process_group() -> None:
    # The next job of a sweep in this process needs a group of its own.
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _gone(children: list[subprocess.Popen]) -> dict[int, str]:
    """{rank: how it went away} for the ranks that ended or were stopped (SIGSTOP) while rank 0 ran."""
    deadline = time.monotonic() + EXIT_STATUS_WAIT_S
    while True:
        ended = {rank: child.poll() for rank, child in enumerate(children, start=1)}
        gone = {rank: _how(code) for rank, code in ended.items() if code not in (None, 0)}
        if gone or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for rank, child in enumerate(children, start=1):
        if rank not in gone and _stopped(child.pid):
            gone[rank] = "stopped, not answering"
    return gone


def _how(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with {returncode}"


def _stopped(pid: int) -> bool:
    """Whether the process is stopped (state T): it holds its sockets open and answers nothing."""
    return process_state(pid) in ("T", "t")


def process_state(pid: int) -> str | None:
    """The state letter of /proc/<pid>/stat ("pid (name) state ..."; the name may hold spaces);
    None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _stop(children: list[subprocess.Popen], succeeded: bool) -> None:
    for child in children:
        if not succeeded and child.poll() is None:
            child.terminate()
            child.send_signal(signal.SIGCONT)  # a stopped rank acts on SIGTERM only once continued
        try:
            child.wait(timeout=CHILD_EXIT_TIMEOUT_S if succeeded else FAILED_CHILD_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    failed = [child.returncode for child in children if child.returncode != 0]
    if succeeded and failed:
        raise RuntimeError(f"DDP: rank 0 finished but {len(failed)} other rank(s) exited with {failed}")
