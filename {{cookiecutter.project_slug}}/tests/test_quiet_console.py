"""A default run prints what it did, not Lightning's product tips or notes on defaults set on purpose.

Lightning's wordings are matched in run/quiet_console.py alone. These tests train real runs: when
Lightning rewords a line that is hidden, the line shows again and the first test fails; when it
drops one, the second does, and the entry can go.
"""

import os
import re
from pathlib import Path

import pytest
from conftest import run_script

from {{ cookiecutter.package_name }}.run.quiet_console import NOISY_LOG_LINES

# The console and train.log: `[time][logger][LEVEL] - message`.
LOG_LINE = re.compile(r"^\[[^\]]+\]\[(?P<logger>[^\]]+)\]\[\w+\] - (?P<message>.*)$")
# What Lightning may still say: the hardware, why fitting stopped, the checkpoint tested.
USEFUL = (
    "Seed set to ",
    "GPU available: ",
    "TPU available: ",
    "LOCAL_RANK: ",
    "You are using a CUDA device",
    "`Trainer.fit` stopped: ",
    "Restoring states from the checkpoint path at ",
    "Loaded model weights from the checkpoint at ",
)
SRUN_HINT = "The `srun` command is available on your system but is not used"


def lightning_lines(text: str) -> list[tuple[str, str]]:
    """(logger, message) of every line a `lightning.*` logger wrote."""
    found = [LOG_LINE.match(line) for line in text.splitlines()]
    return [(m["logger"], m["message"]) for m in found if m and m["logger"].startswith("lightning")]


def train_with_srun_on_path(tmp_path: Path, *overrides: str):
    """Lightning warns about `srun` whenever one is on PATH (it only looks it up): a fake one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "srun").chmod(0o755)
    run_dir = tmp_path / "run"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = run_script(
        "train.py",
        "trainer.max_epochs=2",
        *overrides,
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={tmp_path}",
        env=env,
    )
    return result, run_dir


# callbacks=none: no checkpoint callback configured, Lightning's own then tips litmodels.
@pytest.mark.parametrize("overrides", [[], ["callbacks=none"]], ids=["default", "callbacks=none"])
def test_a_default_run_prints_none_of_lightnings_tips_or_notes(tmp_path, overrides):
    result, run_dir = train_with_srun_on_path(tmp_path, *overrides)
    for shown in (result.stdout, (run_dir / "train.log").read_text()):
        lines = lightning_lines(shown)
        assert any(message.startswith("GPU available: ") for _, message in lines)
        noise = [f"[{logger}] {message}" for logger, message in lines if not message.startswith(USEFUL)]
        assert noise == [], "Lightning lines that are neither useful nor hidden by run/quiet_console.py"
    assert SRUN_HINT not in result.stdout + result.stderr
    assert not [line for line in result.stderr.splitlines() if "/lightning/" in line], result.stderr
    # The run still ends by saying where it went.
    last = result.stdout.strip().splitlines()[-1]
    assert re.search(rf"Done: {re.escape(str(run_dir))} \(.*test/acc .*\); its record: run\.json$", last)


def test_the_hidden_lines_show_again_when_asked_for(tmp_path):
    result, _ = train_with_srun_on_path(
        tmp_path, "extras.quiet_lightning=false", "extras.ignore_warnings=false"
    )
    lines = lightning_lines(result.stdout)
    for logger, starts in NOISY_LOG_LINES.items():
        for start in starts:
            assert (logger, start) in {(name, message[: len(start)]) for name, message in lines}, start
    assert SRUN_HINT in result.stderr
