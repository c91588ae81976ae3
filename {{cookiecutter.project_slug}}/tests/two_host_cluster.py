"""A real SLURM cluster of two hosts on one machine, private to one test session (needs root).

Each host is a network namespace of its own with its own address, hostname and slurmd
(`slurmd -N <name>`); one slurmctld and one munged serve both from this machine's namespace,
over a bridge. A job's tasks on the two hosts talk over TCP between the namespaces as they would
between machines: DDP's rendezvous and gloo's collectives cross the bridge.

Each slurmd also gets a mount namespace in which /etc/hosts names the two hosts (Lightning's
`MASTER_ADDR` is the first host's name, and gloo binds to the address its own hostname resolves
to): the machine's /etc/hosts is never edited.

`stop()` ends everything the cluster started: the jobs, the daemons, every process left in the
hosts' namespaces (proctrack/linuxproc loses a job's processes once they re-parent), and then
the namespaces, links and bridge.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from slurm_cluster import DAEMONS, LocalSlurmCluster, missing_binaries

HOSTS = ("bh1", "bh2")
NETNS_DIR = Path("/var/run/netns")
STOP_TIMEOUT_S = 15


def unavailable() -> str | None:
    """Why the two-host cluster cannot run here, or None."""
    missing = missing_binaries() + [
        tool for tool in ("ip", "nsenter", "unshare") if shutil.which(tool) is None
    ]
    if missing:
        packages = "slurmctld slurmd slurm-client munge iproute2 util-linux"
        return f"SLURM or iproute2 missing ({', '.join(missing)}): sudo apt-get install {packages}"
    if os.geteuid() != 0:
        return "the two-host SLURM cluster needs root (network namespaces): run these tests with sudo"
    probe = f"pytest-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if made.returncode != 0:
        return f"network namespaces are not available here: {made.stderr.strip()}"
    return None


class TwoHostSlurmCluster(LocalSlurmCluster):
    """`start()` brings up the hosts `bh1` and `bh2`; `env` points SLURM's commands at them."""

    def __init__(self, directory: Path, cpus: int = 2, memory_mb: int = 4000) -> None:
        super().__init__(directory, cpus=cpus, memory_mb=memory_mb)
        tag = os.getpid()
        # A subnet and names of this session's own, so that parallel sessions (xdist) never meet.
        subnet = f"10.231.{tag % 250 + 1}"
        self.bridge_address = f"{subnet}.1"
        self.bridge = f"b{tag}"
        self.namespaces = {host: f"pytest-{tag}-{host}" for host in HOSTS}
        self.addresses = {host: f"{subnet}.{index + 2}" for index, host in enumerate(HOSTS)}
        self.links = {host: f"v{tag}h{index}" for index, host in enumerate(HOSTS)}

    def start(self) -> "TwoHostSlurmCluster":
        try:
            for host in HOSTS:
                (self.dir / "spool" / host).mkdir(parents=True, exist_ok=True)
            self._start_network()
            (self.dir / "hosts").write_text(
                "127.0.0.1 localhost\n" + "".join(f"{self.addresses[h]} {h}\n" for h in HOSTS)
            )
            return super().start()
        except BaseException:
            self.stop()
            raise

    def _start_network(self) -> None:
        ip = ["ip"]
        commands = [[*ip, "link", "add", self.bridge, "type", "bridge"]]
        commands += [[*ip, "addr", "add", f"{self.bridge_address}/24", "dev", self.bridge]]
        commands += [[*ip, "link", "set", self.bridge, "up"]]
        for host in HOSTS:
            ns, link, inner = self.namespaces[host], self.links[host], f"{self.links[host]}p"
            commands += [
                [*ip, "netns", "add", ns],
                [*ip, "link", "add", link, "type", "veth", "peer", "name", inner],
                [*ip, "link", "set", inner, "netns", ns],
                [*ip, "link", "set", link, "master", self.bridge],
                [*ip, "link", "set", link, "up"],
                [*ip, "-n", ns, "addr", "add", f"{self.addresses[host]}/24", "dev", inner],
                [*ip, "-n", ns, "link", "set", inner, "up"],
                [*ip, "-n", ns, "link", "set", "lo", "up"],
            ]
        for command in commands:
            subprocess.run(command, check=True, capture_output=True, text=True)

    def _start_slurmd(self) -> None:
        for host in HOSTS:
            # nsenter, not `ip netns exec`: that remounts /sys, and slurmd then finds no cgroup fs.
            script = (
                f"mount --bind {self.dir / 'hosts'} /etc/hosts && hostname {host} && "
                f"exec {DAEMONS['slurmd']} -f {self.conf} -N {host}"
            )
            subprocess.run(
                [
                    "nsenter",
                    f"--net={NETNS_DIR / self.namespaces[host]}",
                    "unshare",
                    "--uts",
                    "--mount",
                    "sh",
                    "-c",
                    script,
                ],
                check=True,
                env=self.env,
            )

    def pid_files(self) -> list[Path]:
        return [
            *(self.dir / f"slurmd-{host}.pid" for host in HOSTS),
            self.dir / "slurmctld.pid",
            self.dir / "munged.pid",
        ]

    def _settings(self) -> dict[str, str]:
        d = self.dir
        hostname = os.uname().nodename
        return {
            **super()._settings(),
            # The controller runs here and is reached from the hosts over the bridge.
            "SlurmctldHost": f"{hostname}({self.bridge_address})",
            # %n: each host's slurmd its own spool, pid file and log.
            "SlurmdSpoolDir": str(d / "spool" / "%n"),
            "SlurmdPidFile": str(d / "slurmd-%n.pid"),
            "SlurmdLogFile": str(d / "log" / "slurmd-%n.log"),
            # The hosts share this machine's cores: take the CPUs and memory declared below.
            "SlurmdParameters": "config_overrides",
        }

    def _nodes(self) -> str:
        nodes = "".join(
            f"NodeName={host} NodeAddr={self.addresses[host]} CPUs={self.cpus} "
            f"RealMemory={self.memory_mb} State=UNKNOWN\n"
            for host in HOSTS
        )
        return nodes + f"PartitionName=debug Nodes={','.join(HOSTS)} Default=YES MaxTime=INFINITE State=UP\n"

    def processes_on(self, host: str) -> list[int]:
        """The processes running on `host`: those in its network namespace."""
        try:
            wanted = (NETNS_DIR / self.namespaces[host]).stat().st_ino
        except OSError:
            return []
        found = []
        for proc in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                if proc.name.isdigit() and (proc / "ns" / "net").stat().st_ino == wanted:
                    found.append(int(proc.name))
        return found

    def stop(self) -> None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            super().stop()
        # Whatever a job or a daemon left on the hosts, then the hosts themselves.
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            left = [pid for host in HOSTS for pid in self.processes_on(host)]
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        for host in HOSTS:
            subprocess.run(["ip", "link", "del", self.links[host]], capture_output=True)
            subprocess.run(["ip", "netns", "del", self.namespaces[host]], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
