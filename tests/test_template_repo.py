"""The template repository holds itself to the standard of the projects it generates."""

from conftest import BIN, TEMPLATE, run


def test_hooks_scripts_and_tests_are_ruff_clean():
    run([BIN / "ruff", "check", "hooks", "scripts", "tests"], TEMPLATE)
    run([BIN / "ruff", "format", "--check", "hooks", "scripts", "tests"], TEMPLATE)


def test_template_python_files_are_formatted_as_baked():
    result = run([BIN / "python", "scripts/format_template.py", "--check"], TEMPLATE)
    assert "would reformat" not in result.stdout


def test_ci_calls_the_readme_test_command():
    readme = (TEMPLATE / "README.md").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "make test" in (TEMPLATE / ".ci/run").read_text()
