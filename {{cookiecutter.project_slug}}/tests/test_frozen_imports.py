"""extras.freeze_imports: imports run with the collector paused; what is alive after them is out
of its reach, what comes later is collected as before."""

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

# A collector the user had switched off stays off; extras.freeze_imports=false imports nothing.
LEFT_AS_FOUND = """
import gc, sys
from omegaconf import OmegaConf
from {{ cookiecutter.package_name }}.runtime.frozen_imports import import_deep_learning_stack, import_frozen

import_deep_learning_stack(OmegaConf.create({"extras": {"freeze_imports": False}}))
print("torch imported", "torch" in sys.modules)
gc.disable()
import_frozen("colorsys", "wave")
print("collector on", gc.isenabled())
"""


def run_python(code: str, *args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_imports_run_paused_and_only_objects_made_after_them_are_collected(tmp_path):
    (tmp_path / "probe.py").write_text("import gc\nCOLLECTOR_ON = gc.isenabled()\n")
    assert run_python(FREEZE, str(tmp_path)) == [
        "collected before the imports",
        "collector on during the import False",
        "collector on after it True",
        "frozen True",
        "froze again False",
        "collected after the imports",
    ]


def test_switched_off_it_imports_nothing_and_a_disabled_collector_stays_disabled():
    assert run_python(LEFT_AS_FOUND) == ["torch imported False", "collector on False"]
