"""Shared by the template's tests: the choices cookiecutter.json offers, and a bake that must succeed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]
CHOICES = {
    key: values
    for key, values in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()
    if isinstance(values, list)
}
BIN = Path(sys.executable).parent
# A W&B key with no network would block each wandb.init for about 100 s.
os.environ["WANDB_MODE"] = "offline"


@pytest.fixture(scope="session", autouse=True)
def isolated_git():
    """Keep the developer's git config and identity out of the bakes' git calls (git_init is the
    default): a global commit.gpgsign or hooksPath would change or stop their first commits."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for name in (
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
        ):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture
def bake(cookies):
    def _bake(**answers: str) -> Path:
        result = cookies.bake(extra_context=answers)
        assert result.exit_code == 0, f"bake with {answers} failed: {result.exception}"
        return Path(result.project_path)

    return _bake


def run(args: list, cwd: Path, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
    """Run a command in a baked project; on failure, the assertion shows its output."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def hydra14_pins() -> dict[str, str]:
    """requirements-hydra14.txt: {"hydra-core": "1.4.0rc3", ...}."""
    lines = [
        line.split("#")[0].strip()
        for line in (TEMPLATE / "requirements-hydra14.txt").read_text().splitlines()
    ]
    return dict(line.split("==") for line in lines if line)
