"""Reject answers that would generate a broken project, before any file is written.

Prints one `ERROR: <field> '<value>' ...` line per bad answer to stderr, exits 1.
"""

import functools
import json
import keyword
import re
import sys

# tojson escapes every quote and backslash, so this raw string always holds valid JSON,
# and the file is valid Python (ruff checks it) before and after Jinja renders it.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Import names of the project's dependencies, and generic names often already on
# sys.path (folders or packages): a package named so would shadow them, or be shadowed.
SHADOWED_NAMES = frozenset(
    {
        "torch",
        "lightning",
        "pytorch_lightning",
        "lightning_fabric",
        "hydra",
        "omegaconf",
        "torchmetrics",
        "wandb",
        "mlflow",
        "tensorboard",
        "sklearn",
        "numpy",
        "scipy",
        "pandas",
        "matplotlib",
        "rich",
        "dotenv",
        "submitit",
        "optuna",
        "joblib",
        "pytest",
        "setuptools",
        "test",
        "tests",
        "src",
        "configs",
        "data",
        "models",
    }
)

# cookiecutter.json limits these at the prompt, not in a replay file or a built context.
CHOICES = {
    "python_version": ("3.10", "3.11", "3.12", "3.13"),
    "license": ("MIT", "BSD-3-Clause", "Apache-2.0", "none"),
    "default_logger": ("csv", "tensorboard", "wandb", "mlflow"),
    "include_slurm": ("yes", "no"),
    "include_optuna": ("yes", "no"),
    "include_github_actions": ("yes", "no"),
    "git_init": ("yes", "no"),
}

PACKAGE_NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")
# A leading letter or digit also rules out '.', '..' and anything starting with '-'.
PROJECT_SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def suggest_package_name(value):
    """A name close to `value` that passes check_package_name."""
    name = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if not name or name[0].isdigit():
        name = f"project_{name}".rstrip("_")
    if keyword.iskeyword(name) or name in sys.stdlib_module_names or name in SHADOWED_NAMES:
        name = f"{name}_project"
    return name


def check_package_name(value):
    """The import name: a lowercase identifier that hides no keyword or module."""
    accepted = f"use a lowercase identifier such as '{suggest_package_name(value)}'"
    # fullmatch, because `$` would accept a trailing newline.
    if not PACKAGE_NAME_RE.fullmatch(value):
        return (
            f"is not a lowercase Python identifier (letters a-z, digits and '_', "
            f"not starting with a digit); {accepted}"
        )
    if keyword.iskeyword(value):
        return f"is a Python keyword; {accepted}"
    if value in sys.stdlib_module_names:
        return f"shadows the standard-library module '{value}'; {accepted}"
    if value in SHADOWED_NAMES:
        return f"shadows the dependency '{value}'; {accepted}"
    return None


def check_project_slug(value):
    """The directory name: one path component, safe in a shell and on every OS."""
    if PROJECT_SLUG_RE.fullmatch(value):
        return None
    suggestion = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-._") or "my-project"
    return (
        "is not a valid directory name; use letters, digits, '.', '_' and '-', "
        f"starting with a letter or digit, such as '{suggestion}'"
    )


def check_author_email(value):
    """Goes into pyproject.toml and the first commit."""
    if EMAIL_RE.fullmatch(value):
        return None
    return "is not an e-mail address; use the form 'name@example.com'"


def check_choice(field, value):
    """Answers that must be one of a fixed list."""
    if value in CHOICES[field]:
        return None
    accepted = ", ".join(f"'{choice}'" for choice in CHOICES[field])
    return f"is not one of the choices; use one of {accepted}"


def problems(answers):
    """One `field 'value' <why>; <what is accepted>` line for each bad answer."""
    checks = {
        "package_name": check_package_name,
        "project_slug": check_project_slug,
        "author_email": check_author_email,
    }
    checks.update({field: functools.partial(check_choice, field) for field in CHOICES})
    for field, check in checks.items():
        value = str(answers.get(field, ""))
        problem = check(value)
        if problem:
            # repr keeps a value with a newline or a quote on one, unambiguous line.
            yield f"{field} {value!r} {problem}"


def main():
    found = list(problems(ANSWERS))
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
