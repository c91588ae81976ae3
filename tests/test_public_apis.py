"""A baked project uses only the public APIs of its frameworks, and nothing process-wide.

A private name (`_something`) of Lightning, Hydra, OmegaConf or torchmetrics can change in any
release without notice, and the project of every user who baked it breaks silently. The rule:
none is imported, read or overridden outside one adapter module (today there is none: ADAPTERS
lists the files allowed, each with a test of its own that fails when the private behaviour
changes). Interpreter tuning (the collector, the allocator) is not the method's business either.
"""

import ast
import importlib
import re
from pathlib import Path

FRAMEWORKS = ("lightning", "pytorch_lightning", "hydra", "hydra_plugins", "omegaconf", "torchmetrics")
# Their public names are those of their packages (`lightning.pytorch.callbacks`), not of the
# modules inside them (`lightning.fabric.plugins.environments.lightning`).
PUBLIC_BY_PACKAGE = ("lightning", "pytorch_lightning", "torchmetrics")
ADAPTERS: set[str] = set()
PROCESS_WIDE = re.compile(r"gc\.freeze|gc\.disable|mallopt|ctypes")


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def from_a_framework(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in FRAMEWORKS


def project_files(project: Path) -> list[Path]:
    return sorted([*project.glob("*.py"), *(project / "src").rglob("*.py")])


def defined_by_the_project(files: list[Path]) -> set[str]:
    """Private names the project defines itself: its own functions, methods and attributes."""
    names = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {name for name in names if is_private(name)}


def framework_imports(tree: ast.Module) -> dict[str, object]:
    """Names bound to framework classes by `from <framework>... import Name`."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and from_a_framework(node.module):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    bound[alias.asname or alias.name] = getattr(module, alias.name)
    return bound


def outside_the_package_namespace(module: str, name: str) -> bool:
    if module.split(".")[0] not in PUBLIC_BY_PACKAGE:
        return False
    package = importlib.import_module(module)
    return not hasattr(package, "__path__") or name not in getattr(package, "__all__", [name])


def private_uses(path: Path, own: set[str]) -> list[str]:
    tree = ast.parse(path.read_text())
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and from_a_framework(node.module):
            uses += [f"imports {node.module}.{a.name}" for a in node.names if is_private(a.name)]
            uses += [
                f"imports {node.module}.{a.name}, not exported by a package"
                for a in node.names
                if not is_private(a.name) and outside_the_package_namespace(node.module, a.name)
            ]
            if any(is_private(part) for part in node.module.split(".")):
                uses.append(f"imports from {node.module}")
        elif isinstance(node, ast.Import):
            uses += [f"imports {a.name}" for a in node.names if from_a_framework(a.name) and "._" in a.name]
        elif isinstance(node, ast.Attribute) and is_private(node.attr) and node.attr not in own:
            uses.append(f"uses .{node.attr} (line {node.lineno})")
    classes = framework_imports(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [classes[base.id] for base in node.bases if isinstance(base, ast.Name) and base.id in classes]
        uses += [
            f"overrides {node.name}.{item.name} (line {item.lineno})"
            for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            and is_private(item.name)
            and any(hasattr(base, item.name) for base in bases)
        ]
    return uses


def test_no_private_framework_name_outside_an_adapter(bake):
    project = bake()
    files = project_files(project)
    own = defined_by_the_project(files)
    found = {
        str(path.relative_to(project)): uses
        for path in files
        if str(path.relative_to(project)) not in ADAPTERS and (uses := private_uses(path, own))
    }
    assert not found, found


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """The scanner itself: each kind of private use it must catch, in a file of its own."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from lightning.fabric.plugins.environments.lightning import find_free_network_port\n"
        "from lightning.pytorch.overrides.distributed import _DatasetSamplerWrapper\n"
        "from lightning.pytorch.callbacks import ModelCheckpoint\n"
        "from hydra._internal.utils import run_and_report\n"
        "class Last(ModelCheckpoint):\n"
        "    def _save_checkpoint(self, trainer, filepath):\n"
        "        self._fs.makedirs(filepath)\n"
    )
    uses = private_uses(sample, own=set())
    assert "imports lightning.pytorch.overrides.distributed._DatasetSamplerWrapper" in uses
    assert "imports from hydra._internal.utils" in uses
    assert (
        "imports lightning.fabric.plugins.environments.lightning.find_free_network_port, "
        "not exported by a package" in uses
    )
    assert not [use for use in uses if "ModelCheckpoint" in use]
    assert any(use.startswith("overrides Last._save_checkpoint") for use in uses)
    assert any(use.startswith("uses ._fs") for use in uses)


def test_nothing_process_wide_in_the_method(bake):
    project = bake()
    hits = [
        f"{path.relative_to(project)}:{number}: {line.strip()}"
        for path in project_files(project)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PROCESS_WIDE.search(line)
    ]
    assert not hits, hits
