"""A real single-node SLURM cluster on localhost, private to one test session.

Debian/Ubuntu: `sudo apt-get install slurmctld slurmd slurm-client munge`. Everything else lives in
a temporary directory: its own munge key and socket, free ports, state and logs, so that it
neither needs nor disturbs a SLURM or munge already on the machine.
"""

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = {"munged": "/usr/sbin/munged", "slurmctld": "/usr/sbin/slurmctld", "slurmd": "/usr/sbin/slurmd"}
CLIENTS = ("sbatch", "srun", "scontrol", "squeue", "sinfo")
START_TIMEOUT_S = 30


def missing_binaries() -> list[str]:
    missing = [name for name, path in DAEMONS.items() if not os.access(path, os.X_OK)]
    return missing + [name for name in CLIENTS if shutil.which(name) is None]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalSlurmCluster:
    """`start()` brings up munged, slurmctld and slurmd; `env` points SLURM's commands at them."""

    def __init__(self, directory: Path, cpus: int = 2, memory_mb: int = 4000) -> None:
        self.dir = directory
        self.cpus = cpus
        self.memory_mb = memory_mb
        self.conf = directory / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self) -> "LocalSlurmCluster":
        for sub in ("state", "spool", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)  # munge wants a socket directory others may traverse
        self._start_munge()
        self.conf.write_text(self._slurm_conf())
        subprocess.run([DAEMONS["slurmctld"], "-f", str(self.conf)], check=True, env=self.env)
        self._start_slurmd()
        self._wait_until_idle()
        return self

    def _start_slurmd(self) -> None:
        subprocess.run([DAEMONS["slurmd"], "-f", str(self.conf), "-N", "localhost"], check=True, env=self.env)

    def pid_files(self) -> list[Path]:
        """The daemons' pid files, slurmd's first: it must not outlive the controller's jobs."""
        return [self.dir / name for name in ("slurmd.pid", "slurmctld.pid", "munged.pid")]

    def stop(self) -> None:
        # Jobs first: once slurmd is gone, a job's batch script and its sruns would live on for good.
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["scancel", "--full", "--user", getpass.getuser()], env=self.env, timeout=10)
            deadline = time.monotonic() + 15
            while self.run("squeue", "-h", "-o", "%i").strip() and time.monotonic() < deadline:
                time.sleep(0.2)
        for pid_file in self.pid_files():
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
        self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        """Every process still running with this cluster's SLURM_CONF in its environment. With
        proctrack/linuxproc, slurmd loses track of a job's processes once they re-parent, and a
        requeued job's first batch script and its sruns outlived scancel and the daemons."""
        marker = f"SLURM_CONF={self.conf}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    os.kill(int(proc.name), signal.SIGKILL)

    def run(self, *command: str) -> str:
        return subprocess.run(command, check=True, capture_output=True, text=True, env=self.env).stdout

    def job_state(self, job_id: str) -> str:
        """PENDING, RUNNING...; "" once the job has left the queue."""
        return self.run("squeue", "-h", "-j", job_id, "-o", "%T").strip()

    def _start_munge(self) -> None:
        key = self.dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        subprocess.run(
            [
                DAEMONS["munged"],
                "--force",
                f"--socket={self.dir / 'munge.sock'}",
                f"--key-file={key}",
                f"--pid-file={self.dir / 'munged.pid'}",
                f"--log-file={self.dir / 'log' / 'munged.log'}",
                f"--seed-file={self.dir / 'munged.seed'}",
            ],
            check=True,
        )

    def _slurm_conf(self) -> str:
        return "".join(f"{key}={value}\n" for key, value in self._settings().items()) + self._nodes()

    def _settings(self) -> dict[str, str]:
        user = getpass.getuser()
        d = self.dir
        return {
            "ClusterName": "pytest",
            "SlurmctldHost": "localhost",
            "SlurmctldPort": str(free_port()),
            "SlurmdPort": str(free_port()),
            "SlurmUser": user,
            "SlurmdUser": user,
            "AuthType": "auth/munge",
            "CredType": "cred/munge",
            # cred_expire: a requeued job may start again after this many seconds (120 by default).
            "AuthInfo": f"socket={d / 'munge.sock'},cred_expire=5",
            "StateSaveLocation": str(d / "state"),
            "SlurmdSpoolDir": str(d / "spool"),
            "SlurmctldPidFile": str(d / "slurmctld.pid"),
            "SlurmdPidFile": str(d / "slurmd.pid"),
            "SlurmctldLogFile": str(d / "log" / "slurmctld.log"),
            "SlurmdLogFile": str(d / "log" / "slurmd.log"),
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/none",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_Core",
            "SchedulerType": "sched/backfill",
            "MpiDefault": "none",
            "SwitchType": "switch/none",
            "ReturnToService": "2",
            "JobAcctGatherType": "jobacct_gather/none",
            "AccountingStorageType": "accounting_storage/none",
            "JobCompType": "jobcomp/none",
        }

    def _nodes(self) -> str:
        return f"""\
NodeName=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""

    def _wait_until_idle(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env
            ).stdout.strip()
            if state == "idle":
                return
            time.sleep(0.2)
        logs = "\n".join(path.read_text()[-1500:] for path in sorted((self.dir / "log").glob("slurm*.log")))
        raise RuntimeError(f"the local SLURM cluster did not come up within {START_TIMEOUT_S} s:\n{logs}")
