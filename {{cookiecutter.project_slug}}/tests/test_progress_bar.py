"""Progress: Rich's live bar on a terminal, one line per epoch in a log file."""

import os
import re

from conftest import run_script
from lightning.pytorch.callbacks import RichProgressBar

from {{ cookiecutter.package_name }}.callbacks.progress_bar import EpochLines, progress_bar


def test_a_run_writing_to_a_file_logs_one_line_per_epoch(tmp_path):
    run_dir = tmp_path / "run"
    result = run_script("train.py", "debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}")
    (log_file,) = run_dir.glob("*.log")  # debug.log: debug configs set task_name=debug
    for output in (result.stdout, log_file.read_text()):
        lines = re.findall(r"Epoch (\d)/2: (.*) \((\d+\.\d\d) s\)", output)
        assert [epoch for epoch, _, _ in lines] == ["0", "1", "2"], output[-2000:]
        assert all("train/loss" in metrics and "val/acc" in metrics for _, metrics, _ in lines)
    assert "it/s" not in result.stdout  # no live bar drawn into the file


def test_a_terminal_gets_the_live_bar(monkeypatch):
    controller, terminal = os.openpty()
    with open(terminal, "w") as tty:
        monkeypatch.setattr("sys.stdout", tty)
        on_terminal = progress_bar(refresh_rate=5)
        monkeypatch.undo()
    os.close(controller)
    assert isinstance(on_terminal, RichProgressBar) and on_terminal.refresh_rate == 5
    assert isinstance(progress_bar(), EpochLines)  # pytest's captured stdout is no terminal
