"""Tests of the hooks: answer checks (pre-gen), removals and git init (post-gen)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, run
from cookiecutter.exceptions import FailedHookException
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config
from cookiecutter.utils import create_env_with_context

TEMPLATE = Path(__file__).resolve().parents[1]
PRE_GEN_HOOK = TEMPLATE / "hooks" / "pre_gen_project.py"

# cookiecutter refuses values outside these fields' choices when given as extra_context;
# the hook is the only check on other routes (a replay file, a hand-built context).
CHOICE_FIELDS = {
    "python_version",
    "license",
    "default_logger",
    "include_slurm",
    "include_optuna",
    "include_github_actions",
    "git_init",
}

BAD_ANSWERS = [
    ("package_name", "torch"),
    ("package_name", "lightning"),
    ("package_name", "hydra"),
    ("package_name", "test"),
    ("package_name", "wandb"),
    ("package_name", "json"),
    ("package_name", "class"),
    ("package_name", "1abc"),
    ("package_name", "my-pkg"),
    ("package_name", "Bad Name"),
    ("package_name", "ok\n"),
    ("project_slug", "has space"),
    ("project_slug", "../evil"),
    ("author_email", "not-an-email"),
    ("python_version", "3.9"),
    ("license", "GPL"),
    ("default_logger", "neptune"),
    ("include_slurm", "maybe"),
    ("include_optuna", "maybe"),
    ("include_github_actions", "maybe"),
    ("git_init", "maybe"),
]

# cookiecutter stops these before the hook (the folder exists already): hook-only.
HOOK_ONLY_BAD_ANSWERS = [
    ("project_slug", "."),
    ("project_slug", ".."),
    ("project_slug", "-rf"),
]

# (option, answer that switches it off, paths the post-gen hook must then remove)
SWITCHES = [
    # The launcher folder holds only slurm.yaml, so it goes too.
    (
        "include_slurm",
        "no",
        [
            "configs/hydra/launcher",
            "configs/local/slurm_cluster.example.yaml",
            "tests/test_slurm.py",
            "tests/slurm_cluster.py",
            "tests/slurm_sweeps.py",
            "tests/test_multinode.py",
            "tests/two_host_cluster.py",
            "src/digits_research/launch/slurm_jobs.py",
            "src/digits_research/launch/slurm_shape.py",
            "src/hydra_plugins/digits_research_slurm",
        ],
    ),
    (
        "include_optuna",
        "no",
        [
            "configs/hparams_search",
            "configs/hydra/sweeper",
            "configs/callbacks/optuna_pruning.yaml",
            "src/hydra_plugins/digits_research_search",
            "src/digits_research/search",
            "src/digits_research/callbacks/optuna_pruning.py",
            "tests/test_hparams_search.py",
        ],
    ),
    ("include_github_actions", "no", [".github"]),
    ("license", "none", ["LICENSE"]),
]


def bake(cookies, **answers):
    return cookies.bake(extra_context=answers, template=str(TEMPLATE))


def leftovers(output_root):
    """Everything under the cookies output root but its own empty bakeNN folders."""
    entries = (path.relative_to(output_root).as_posix() for path in output_root.rglob("*"))
    return sorted(entry for entry in entries if not re.fullmatch(r"bake\d+", entry))


def tree(root):
    """Every path under `root` but the repository's own files, which differ with every bake."""
    paths = (path.relative_to(root) for path in root.rglob("*"))
    return {path.as_posix() for path in paths if path.parts[0] != ".git"}


def files_outside_git(root):
    paths = (path.relative_to(root) for path in root.rglob("*") if path.is_file())
    return {path.as_posix() for path in paths if path.parts[0] != ".git"}


def under(entries, paths):
    return {entry for entry in entries for path in paths if entry == path or entry.startswith(f"{path}/")}


def git(project, *args):
    return subprocess.run(
        ["git", *args], cwd=project, check=True, capture_output=True, text=True
    ).stdout.strip()


def default_answers():
    context = generate_context(context_file=str(TEMPLATE / "cookiecutter.json"))
    return prompt_for_config(context, no_input=True)


def run_pre_gen_hook(tmp_path, **overrides):
    """Render the hook as cookiecutter does, answers set after prompting; run it."""
    answers = {**default_answers(), **overrides}
    context = {"cookiecutter": answers}
    rendered = create_env_with_context(context).from_string(PRE_GEN_HOOK.read_text()).render(**context)
    script = tmp_path / "pre_gen_project.py"
    script.write_text(rendered)
    return subprocess.run(
        [sys.executable, str(script)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def default_project(cookies_session):
    result = cookies_session.bake(template=str(TEMPLATE))
    assert result.exception is None, result.exception
    return result.project_path


# --- pre_gen_project: answer checks ---


@pytest.mark.parametrize(("field", "value"), BAD_ANSWERS)
def test_bad_answer_stops_generation_and_leaves_nothing(cookies, tmp_path, field, value):
    result = bake(cookies, **{field: value})

    assert result.exit_code != 0
    assert result.project_path is None
    expected = ValueError if field in CHOICE_FIELDS else FailedHookException
    assert isinstance(result.exception, expected), result.exception
    assert leftovers(tmp_path / "cookies") == []


@pytest.mark.parametrize(("field", "value"), BAD_ANSWERS + HOOK_ONLY_BAD_ANSWERS)
def test_hook_names_field_value_and_what_is_accepted_in_one_line(tmp_path, field, value):
    # Only the field under test is bad: for a bad slug, keep the package name valid too.
    run = run_pre_gen_hook(tmp_path, **{"package_name": "my_net", field: value})

    assert run.returncode == 1
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith(f"ERROR: {field} {value!r} ")
    assert "; use " in line


@pytest.mark.parametrize("value", [value for field, value in BAD_ANSWERS if field == "package_name"])
def test_suggested_package_name_is_accepted(tmp_path, value):
    run = run_pre_gen_hook(tmp_path, package_name=value)
    suggestion = re.search(r"such as '([^']*)'$", run.stderr.strip()).group(1)

    assert run_pre_gen_hook(tmp_path, package_name=suggestion).returncode == 0


def test_every_bad_answer_gets_its_own_line(tmp_path):
    run = run_pre_gen_hook(tmp_path, package_name="torch", author_email="nope", license="GPL")

    assert run.returncode == 1
    assert [line.split()[1] for line in run.stderr.splitlines()] == [
        "package_name",
        "author_email",
        "license",
    ]


def test_shadowed_dependency_message(tmp_path):
    run = run_pre_gen_hook(tmp_path, package_name="torch")

    assert run.stderr == (
        "ERROR: package_name 'torch' shadows the dependency 'torch'; "
        "use a lowercase identifier such as 'torch_project'\n"
    )


def test_quotes_backslashes_and_newlines_in_answers_survive_rendering(tmp_path):
    tricky = 'says """hi""" and \'bye\'\nover two lines, ending in a backslash \\'
    run = run_pre_gen_hook(tmp_path, description=tricky, author_name=tricky)

    assert (run.returncode, run.stderr) == (0, "")


def test_default_answers_pass_the_hook(tmp_path):
    run = run_pre_gen_hook(tmp_path)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_cli_prints_the_error_and_leaves_the_output_dir_empty(tmp_path):
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    # Keep cookiecutter's replay and clone folders out of the home directory.
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {
                "cookiecutters_dir": str(tmp_path / "cc"),
                "replay_dir": str(tmp_path / "replay"),
            }
        )
    )

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--config-file",
            str(config),
            str(TEMPLATE),
            "-o",
            str(output_dir),
            "package_name=torch",
        ],
        check=False,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )

    assert run.returncode != 0
    assert any(line.startswith("ERROR: package_name 'torch'") for line in run.stderr.splitlines()), run.stderr
    assert list(output_dir.iterdir()) == []


def test_bad_choice_from_a_replay_file_is_stopped_by_the_hook(tmp_path):
    # A replay file skips cookiecutter's own choice check, so the hook is what stops it.
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"cookiecutter": {**default_answers(), "python_version": "3.9"}}))
    output_dir = tmp_path / "out"
    output_dir.mkdir()

    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE), replay=str(replay), output_dir=str(output_dir))

    assert list(output_dir.iterdir()) == []


def test_good_non_default_answers_generate_the_project(cookies, tmp_path):
    result = bake(
        cookies,
        project_name="My Net",
        project_slug="my-net",
        package_name="my_net",
        author_email="first.last@lab.example.org",
        python_version="3.12",
        license="Apache-2.0",
        default_logger="tensorboard",
    )

    assert result.exit_code == 0
    assert result.exception is None
    assert result.project_path.name == "my-net"
    assert (result.project_path / "src" / "my_net" / "__init__.py").is_file()
    # The folder leftovers() inspects is really where bakes are written.
    assert result.project_path.parent.parent == tmp_path / "cookies"


# --- post_gen_project: removals ---


@pytest.mark.parametrize(("option", "off", "paths"), SWITCHES)
def test_defaults_keep_the_optional_paths(default_project, option, off, paths):
    for path in paths:
        assert (default_project / path).exists(), path


@pytest.mark.parametrize(("option", "off", "paths"), SWITCHES)
def test_switching_off_removes_exactly_its_paths(cookies, default_project, option, off, paths):
    result = bake(cookies, **{option: off})
    assert result.exception is None, result.exception
    kept, default = tree(result.project_path), tree(default_project)

    assert not any((result.project_path / path).exists() for path in paths)
    assert kept <= default
    assert default - kept == under(default, paths)


# --- post_gen_project: git ---


def test_a_default_bake_is_a_repository_with_one_clean_commit_by_the_author(cookies):
    # No git_init answer: the default, so that every run's manifest can name a commit.
    result = bake(cookies, author_name="Ada Lovelace", author_email="ada@example.org")
    assert result.exception is None, result.exception
    project = result.project_path

    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert (
        git(project, "log", "-1", "--format=%an <%ae>|%cn") == "Ada Lovelace <ada@example.org>|Ada Lovelace"
    )
    assert git(project, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(project, "status", "--porcelain") == ""
    # A generated file that .gitignore matches would be missing from the first commit.
    assert set(git(project, "ls-files").splitlines()) == files_outside_git(project)


def test_a_default_train_run_records_the_first_commit(cookies):
    project = bake(cookies).project_path
    commit = git(project, "rev-parse", "HEAD")

    # As a user runs it, logs inside the project; debug=fdr: one batch, a few seconds.
    trained = [BIN / "python", "train.py", "debug=fdr", "extras.print_config=false"]
    run(trained, project, PYTHONPATH="src")

    (record,) = project.glob("logs/**/run.json")
    manifest = json.loads((record.parent / json.loads(record.read_text())["manifest"]).read_text())
    assert manifest["git"]["commit"] == commit and manifest["git"]["dirty"] is False, manifest["git"]
    assert manifest["rerun"].startswith(f"git checkout {commit} && python train.py debug=fdr")
    # What a run leaves in the project (logs, caches) is ignored: the tree stays clean.
    assert git(project, "status", "--porcelain") == ""


def test_no_git_init_leaves_no_repository(cookies):
    result = bake(cookies, git_init="no")
    assert result.exception is None, result.exception

    assert not (result.project_path / ".git").exists()


def test_git_init_without_git_warns_and_carries_on(cookies, monkeypatch, tmp_path, capfd):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))

    result = bake(cookies, git_init="yes")

    assert result.exit_code == 0
    assert result.exception is None, result.exception
    assert not (result.project_path / ".git").exists()
    warnings = [line for line in capfd.readouterr().err.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1


def test_a_commit_that_git_refuses_warns_and_leaves_the_project_without_a_repository(
    cookies, monkeypatch, tmp_path, capfd
):
    # A user's git config that signs every commit, with a signing program that fails.
    config = tmp_path / "gitconfig"
    config.write_text("[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))

    result = bake(cookies)

    assert result.exception is None, result.exception
    assert not (result.project_path / ".git").exists()
    assert (result.project_path / "train.py").is_file()
    warnings = [line for line in capfd.readouterr().err.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1 and "`git commit` failed (" in warnings[0], warnings
