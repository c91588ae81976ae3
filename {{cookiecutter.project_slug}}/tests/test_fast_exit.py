"""extras.fast_exit: the interpreter's last garbage collection is skipped, nothing else."""

import subprocess
import sys

from conftest import read_run, run_script

# A reference cycle with a finalizer: only a garbage collection frees it. Automatic collections are
# off, so the one at exit is the only one that could.
CYCLE_AT_EXIT = """
import gc, sys
from {{ cookiecutter.package_name }}.runtime.fast_exit import skip_final_garbage_collection

class Cycle:
    def __del__(self):
        print("collected at exit", flush=True)

if sys.argv[1] == "fast":
    skip_final_garbage_collection()
gc.disable()
cycle = Cycle()
cycle.self = cycle
del cycle
"""


def test_the_collection_at_exit_is_skipped():
    def at_exit(mode: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", CYCLE_AT_EXIT, mode], capture_output=True, text=True, check=True
        ).stdout

    assert at_exit("plain") == "collected at exit\n" and at_exit("fast") == ""


def test_a_run_with_it_still_writes_its_log_and_record_to_the_end(tmp_path):
    run_dir = tmp_path / "run"
    run_script("train.py", "debug=limit", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}")
    assert read_run(run_dir)["status"] == "completed"
    (log_file,) = run_dir.glob("*.log")
    # The last lines logged before exit: the epoch summary of the last epoch and the test's checkpoint.
    log = log_file.read_text()
    assert "Epoch 2/2:" in log and "Loaded model weights from the checkpoint" in log
