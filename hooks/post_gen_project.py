"""Remove what the answers switched off from the new project, then maybe git-init it.

Runs inside the generated project directory; never prompts.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

# tojson escapes every quote and backslash, so this raw string always holds valid JSON,
# and the file is valid Python (ruff checks it) before and after Jinja renders it.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
PACKAGE = ANSWERS["package_name"]

# (option, answer) -> paths, relative to the project root, that this answer removes.
REMOVALS = {
    ("include_slurm", "no"): [
        "configs/hydra/launcher/slurm.yaml",
        "configs/local/slurm_cluster.example.yaml",
        "tests/test_slurm.py",
        "tests/slurm_cluster.py",
        "tests/slurm_sweeps.py",
        "tests/test_multinode.py",
        "tests/two_host_cluster.py",
        f"src/{PACKAGE}/launch/slurm_jobs.py",
        f"src/{PACKAGE}/launch/slurm_shape.py",
        f"src/hydra_plugins/{PACKAGE}_slurm",
    ],
    ("include_optuna", "no"): [
        "configs/hparams_search",
        "configs/hydra/sweeper",
        "configs/callbacks/optuna_pruning.yaml",
        f"src/hydra_plugins/{PACKAGE}_search",
        f"src/{PACKAGE}/search",
        f"src/{PACKAGE}/callbacks/optuna_pruning.py",
        "tests/test_hparams_search.py",
    ],
    ("include_github_actions", "no"): [".github"],
    ("license", "none"): ["LICENSE"],
}
# Directories that go too when the removals above leave them empty.
PRUNE_IF_EMPTY = ["configs/hydra/launcher", "src/hydra_plugins"]

INITIAL_COMMIT_MESSAGE = "Initial commit from the research template"


def remove(path):
    """Delete a file or a whole directory; a path that is already absent is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def remove_switched_off(answers, root):
    for (option, answer), paths in REMOVALS.items():
        if answers[option] == answer:
            for path in paths:
                remove(root / path)
    for directory in map(root.joinpath, PRUNE_IF_EMPTY):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def git_init(answers, root):
    """A repository on `main` holding the whole project as one commit by the author.

    git_init is the default, so a git that cannot commit here (no git, or the user's git config
    asks for a signature that fails) must not cost the user the project: a warning, and the
    project without a repository, which the run manifest records as such."""
    if shutil.which("git") is None:
        print(
            "WARNING: git_init is 'yes' but git is not on PATH; skipped `git init`",
            file=sys.stderr,
        )
        return
    identity = [
        "-c",
        f"user.name={answers['author_name']}",
        "-c",
        f"user.email={answers['author_email']}",
    ]
    failure = first_failure(
        [
            ("git init", ["git", "init", "-q", "-b", "main"]),
            ("git add", ["git", "add", "-A"]),
            ("git commit", ["git", *identity, "commit", "-q", "-m", INITIAL_COMMIT_MESSAGE]),
        ],
        root,
    )
    if failure:
        remove(root / ".git")  # no half-made repository: the project alone, as with git_init=no
        print(
            f"WARNING: git_init is 'yes' but {failure}; "
            "the project is written without a repository: run `git init` in it yourself",
            file=sys.stderr,
        )


def first_failure(steps, root):
    """Run each (name, command) in turn; the first that fails, as "`name` failed (git's reason)"."""
    for name, command in steps:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
            return f"`{name}` failed ({reason})"
    return None


def main():
    root = Path.cwd()
    remove_switched_off(ANSWERS, root)
    if ANSWERS["git_init"] == "yes":
        git_init(ANSWERS, root)


if __name__ == "__main__":
    main()
