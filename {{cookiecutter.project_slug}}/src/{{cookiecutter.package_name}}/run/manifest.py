"""`manifest/` in each run directory: what it takes to run it again.

manifest.json  code version (git commit, branch, dirty or not), machine, python and library
               versions, CUDA/cuDNN, accelerators, the exact command line, the seed, and the
               command that re-creates the run
git.patch      the uncommitted changes (`git diff HEAD`) when the tree was dirty
packages.txt   every installed distribution as `name==version` (what `pip freeze` lists)
config.yaml    the resolved config, every interpolation replaced by its value
"""

import functools
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..cli.overrides import override_key

MANIFEST_DIR = "manifest"
GIT_TIMEOUT_S = 10


def write_manifest(cfg: DictConfig, segments: list[dict], output_dir: Path, script: str) -> Path:
    """Writes `<output_dir>/manifest/` and returns the path of its manifest.json. A run resumed in its
    directory is a segment of it (run/record.py): segment k writes `manifest/segment_<k>/`, and its
    re-run instructions are the commands of all segments in order."""
    directory = Path(output_dir) / MANIFEST_DIR
    if len(segments) > 1:
        directory = directory / f"segment_{len(segments)}"
    directory.mkdir(parents=True, exist_ok=True)
    root = Path(os.environ.get("PROJECT_ROOT", "."))
    git = git_state(root, directory / "git.patch")
    manifest = {
        "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": [sys.executable, *sys.argv],
        "working_directory": os.getcwd(),
        "seed": cfg.get("seed"),
        "git": git,
        "rerun": rerun_command(
            git,
            script,
            [s["overrides"] for s in segments],
            cfg.get("seed"),
            directory.relative_to(output_dir),
        ),
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        **library_versions(),
        "packages": "packages.txt",
        "config": "config.yaml",
    }
    interrupted = [
        k for k, segment in enumerate(segments[:-1], start=1) if segment.get("status") != "completed"
    ]
    if interrupted:
        manifest["rerun_note"] = (
            f"segment(s) {', '.join(map(str, interrupted))} stopped before their end (crashed, killed or "
            "preempted); the commands re-create the run without those interruptions, so the numbers "
            "may differ a little"
        )
    (directory / "packages.txt").write_text("\n".join(installed_packages()) + "\n")
    (directory / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    path = directory / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def git_state(root: Path, patch_path: Path) -> dict[str, Any]:
    """The commit the code was at, and the uncommitted changes written to `patch_path`."""

    def git(*args: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, check=True, timeout=GIT_TIMEOUT_S
        ).stdout

    try:
        commit = git("rev-parse", "HEAD").decode().strip()
    except FileNotFoundError:
        return {"commit": None, "note": "git is not installed: the code version is unknown"}
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return {"commit": None, "note": f"{root} is not in a git repository (or has no commit yet)"}
    try:
        # Bytes: a patch of files in any encoding is kept exactly.
        diff = git("diff", "HEAD", "--binary", "--no-ext-diff")
        untracked = git("ls-files", "--others", "--exclude-standard").decode(errors="replace").splitlines()
        branch = git("rev-parse", "--abbrev-ref", "HEAD").decode().strip()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        # A huge or broken working tree must not stop the run; the commit alone is still worth keeping.
        return {"commit": commit, "note": f"uncommitted changes unknown ({type(error).__name__})"}
    if diff:
        patch_path.write_bytes(diff)
    return {
        "commit": commit,
        "branch": branch,
        "dirty": bool(diff or untracked),
        "patch": patch_path.name if diff else None,
        # Not in the patch: new files git does not know about yet.
        "untracked_files": untracked,
    }


def rerun_command(
    git: dict[str, Any], script: str, segments: list[list[str]], seed: int | None, manifest_dir: Path
) -> str:
    """Shell lines that re-create the run: the code version, then each segment's overrides and the
    seed, in order; a segment after the first continues the run the first made (`ckpt_path=last`)."""
    seed_override = [] if seed is None else [f"seed={seed}"]
    runs = [
        shlex.join(
            ["python", script, *without_seed(overrides), *seed_override, *(["ckpt_path=last"] if k else [])]
        )
        for k, overrides in enumerate(segments)
    ]
    if git.get("commit") is None:
        return " && ".join(runs)
    steps = [f"git checkout {git['commit']}"]
    if git.get("patch"):
        steps.append(f"git apply <this run>/{manifest_dir.as_posix()}/{git['patch']}")
    return " && ".join([*steps, *runs])


def without_seed(overrides: list[str]) -> list[str]:
    """Also without `ckpt_path`: the re-run trains from the start, in one go."""
    return [o for o in overrides if override_key(o) not in ("seed", "ckpt_path")]


def library_versions() -> dict[str, Any]:
    import lightning
    import torch

    accelerators = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if not accelerators and torch.backends.mps.is_available():
        accelerators = ["mps"]
    return {
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "accelerators": accelerators or [f"cpu: {platform.processor() or platform.machine()}"],
        "cpu_count": os.cpu_count(),
    }


@functools.cache
def installed_packages() -> tuple[str, ...]:
    # Read once per process (~0.1 s): every job of a sweep the process runs shares the environment.
    names = {
        dist.metadata["Name"]: dist.version for dist in metadata.distributions() if dist.metadata["Name"]
    }
    return tuple(sorted(f"{name}=={version}" for name, version in names.items()))
