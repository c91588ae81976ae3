"""extras.freeze_imports: imports run with the collector paused; what exists after them is out of
its reach, what comes later is collected as before."""

import subprocess
import sys

# Run in a fresh interpreter each time: the freeze lasts for the process.
FREEZE = """
import gc, sys
from {{ cookiecutter.package_name }}.runtime.frozen_imports import import_frozen

class Cycle:
    def __init__(self, name):
        self.name, self.self = name, self
    def __del__(self):
        print("collected", self.name)

before = Cycle("before the imports")
del before
sys.path.insert(0, sys.argv[1])
import_frozen("probe")
import probe
print("collector on during the import", probe.COLLECTOR_ON)
print("collector on after it", gc.isenabled())
frozen = gc.get_freeze_count()
print("frozen", frozen > 0)
gc.collect()
after = Cycle("after the imports")
del after
import_frozen("probe")  # a second sweep job in the same process: no second freeze
print("froze again", gc.get_freeze_count() != frozen)
gc.collect()
"""


def test_imports_run_paused_and_only_later_objects_are_collected(tmp_path):
    (tmp_path / "probe.py").write_text("import gc\nCOLLECTOR_ON = gc.isenabled()\n")
    result = subprocess.run(
        [sys.executable, "-c", FREEZE, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [
        "collector on during the import False",
        "collector on after it True",
        "frozen True",
        "froze again False",
        "collected after the imports",
    ]
