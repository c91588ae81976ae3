"""`python train.py --help`: the script's usage and every config group with its options, in a blink.

Hydra's own `--help` composes the configuration once per config group to list them (about 3 s
here); this reads the config folder instead, and asks Hydra only which launchers and sweepers its
installed plugins provide. `--hydra-help` still goes to Hydra.
"""

import os
import sys
from pathlib import Path

FLAGS = """\
Flags (Hydra's):
  -m, --multirun       run a sweep: python train.py -m seed=1,2,3 model=linear,mlp
  --cfg job            print the composed config and stop (add --resolve to resolve interpolations)
  --info               config search path, defaults tree and sources
  --hydra-help         Hydra's other groups (hydra/job_logging, hydra/output, ...) and flags
  HYDRA_FULL_ERROR=1   a traceback instead of the one-line error"""


def help_requested(argv: list[str] | None = None) -> bool:
    return any(arg in ("--help", "-h") for arg in (sys.argv[1:] if argv is None else argv))


def config_groups(config_dir: Path) -> dict[str, list[str]]:
    """Every config group under `config_dir`, e.g. {"model": ["cnn", ...], "model/optimizer": [...]}.

    A `base/` folder holds what the options of its group share (pulled in by their defaults lists,
    e.g. configs/data/base/in_memory.yaml), not options: left out."""
    groups = {}
    for folder in sorted(path for path in config_dir.rglob("*") if path.is_dir()):
        group = folder.relative_to(config_dir)
        options = sorted(path.stem for path in folder.glob("*.yaml"))
        if options and "base" not in group.parts:
            groups[group.as_posix()] = options
    return groups


# Options that installed Hydra plugins provide (joblib, submitit_slurm, optuna, ...) beside the
# project's own in configs/: a launcher or sweeper is chosen on the command line like any group.
PLUGIN_GROUPS = ("hydra/launcher", "hydra/sweeper")


def plugin_options(group: str) -> list[str]:
    """The options Hydra and its installed plugins register for `group`, e.g. ["basic", "joblib"]."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    # The first call imports every plugin module under hydra_plugins/; each stores its configs in
    # the ConfigStore as it is imported. Their heavy imports (optuna, joblib) wait for their use.
    Plugins.instance()
    # A sweeper's subgroups (hydra/sweeper/sampler) are listed too, without the .yaml of an option.
    names = ConfigStore.instance().list(group)
    return [name.removesuffix(".yaml") for name in names if name.endswith(".yaml")]


def with_plugin_options(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    """`groups` with each of PLUGIN_GROUPS holding the project's options and the plugins' alike."""
    merged = dict(groups)
    for group in PLUGIN_GROUPS:
        merged[group] = sorted({*groups.get(group, []), *plugin_options(group)})
    return dict(sorted(merged.items()))


def print_script_help(usage: str) -> None:
    config_dir = Path(os.environ["PROJECT_ROOT"]) / "configs"
    listed = with_plugin_options(config_groups(config_dir))
    groups = [f"  {group}: {', '.join(options)}" for group, options in listed.items()]
    text = "\n".join(
        [
            usage.strip(),
            "",
            "Config groups (group=option; one .yaml per option in configs/<group>/, or a Hydra plugin's):",
            *groups,
        ]
    )
    try:
        print(f"{text}\n\n{FLAGS}", flush=True)
    except BrokenPipeError:
        # `python train.py --help | head`: the reader has what it wanted. Later writes (and the
        # flush at exit) go nowhere instead of raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
