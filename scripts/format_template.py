"""Apply ruff (fix + format) to the template's Python files, which are Jinja until baked.

Bakes the project with a placeholder package name as long as the Jinja expression it stands for,
runs ruff on the bake with the project's own settings, and copies the results back with the Jinja
restored. Lines that mention the package then keep their slack for any name up to that length.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
JINJA_PACKAGE = "{{ cookiecutter.package_name }}"
PLACEHOLDER = "pkg_" + "x" * (len(JINJA_PACKAGE) - 4)
RUFF = Path(sys.executable).parent / "ruff"


def main(check: bool) -> int:
    changed = []
    with tempfile.TemporaryDirectory() as tmp:
        baked = Path(
            cookiecutter(
                str(TEMPLATE),
                no_input=True,
                output_dir=tmp,
                extra_context={"package_name": PLACEHOLDER, "python_version": "3.10"},
            )
        )
        subprocess.run([RUFF, "check", "--fix", "--quiet", "."], cwd=baked, check=False)
        subprocess.run([RUFF, "format", "--quiet", "."], cwd=baked, check=True)
        for formatted in baked.rglob("*.py"):
            relative = str(formatted.relative_to(baked)).replace(PLACEHOLDER, "{{cookiecutter.package_name}}")
            source = PROJECT / relative
            # Other Jinja (a rendered description, say, or an `{% if %}` block, which the bake
            # removes) could not be restored: leave such files alone.
            text = source.read_text() if source.is_file() else ""
            if text and text.replace(JINJA_PACKAGE, "").count("{{") == 0 and "{%" not in text:
                restored = formatted.read_text().replace(PLACEHOLDER, JINJA_PACKAGE)
                if restored != source.read_text():
                    changed.append(relative)
                    if not check:
                        source.write_text(restored)
        shutil.rmtree(baked)
    for relative in changed:
        print(f"{'would reformat' if check else 'formatted'} {relative}")
    return 1 if check and changed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list files that would change; exit 1 if any")
    sys.exit(main(parser.parse_args().check))
