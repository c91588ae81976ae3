"""A path the project prints can be pasted back on the command line as it is.

Sweep job directories are named by their overrides (`model=linear,seed=1`), and `=`, `,`, spaces,
brackets and quotes mean something in Hydra's override grammar: `ckpt_path=<job dir>/last.ckpt`
would stop Hydra with "mismatched input '='". Before Hydra reads the command line, the value of
an override that names an existing file or directory and holds such a character is quoted for
Hydra. Everything else stays as typed: an already quoted value, a sweep such as
`ckpt_path=a.ckpt,b.ckpt` that names no path, the flags and their values.
"""

import os
import re
import sys
from pathlib import Path

# `key=value`, `+key=value`, `++key=value`; keys as Hydra writes them (`model/optimizer`, `a@b`).
OVERRIDE = re.compile(r"(?P<key>(?:\+\+|\+)?[A-Za-z_][\w.@/-]*)=(?P<value>.*)", re.DOTALL)
# What Hydra's grammar reads in an unquoted value as itself: letters, digits and these. Any other
# character (`=`, `,`, a space, brackets, quotes, `:`, `$`, `\`, ...) may mean something else.
# https://hydra.cc/docs/advanced/override_grammar/basic/ (its `primitive`).
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_/+.%*@?|-]*")
# Hydra's flags whose value is the next argument, which is no override (`--config-path DIR`).
FLAGS_WITH_A_VALUE = frozenset(
    {"-c", "--cfg", "-p", "--package", "-cp", "--config-path", "-cn", "--config-name", "-cd", "--config-dir"}
    | {"-i", "--info", "--experimental-rerun"}
)


def quote_pasted_paths() -> None:
    """train.py and eval.py, before Hydra reads `sys.argv`. Lightning's DDP launcher, which starts
    the other ranks by re-running `sys.argv`, gets the quoted overrides too."""
    sys.argv[1:] = quoted_for_hydra(sys.argv[1:])


def quoted_for_hydra(arguments: list[str]) -> list[str]:
    """`arguments` (the command line without the script), each pasted path quoted for Hydra."""
    quoted, after_flag = [], False
    for argument in arguments:
        quoted.append(argument if after_flag or argument.startswith("-") else quoted_override(argument))
        after_flag = argument in FLAGS_WITH_A_VALUE
    return quoted


def quoted_override(argument: str) -> str:
    match = OVERRIDE.fullmatch(argument)
    if match is None or not needs_quotes(match["value"]):
        return argument
    return f"{match['key']}={hydra_quoted(match['value'])}"


def needs_quotes(value: str) -> bool:
    if PLAIN_VALUE.fullmatch(value) or value[:1] in ("'", '"'):
        return False
    # Relative paths as the run reads them: from here (ckpt_path) or from the project (data.path).
    roots = [Path.cwd(), Path(os.environ.get("PROJECT_ROOT", "."))]
    return any(exists(root / value) for root in roots)


def exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a value too long to be a file name: a list of numbers, say
        return False


def hydra_quoted(value: str) -> str:
    """`value` as one quoted string in Hydra's grammar. In Hydra's quoted strings a backslash is
    literal, except before a quote or at the end."""
    escaped = re.sub(r"(\\*)('|$)", lambda m: m.group(1) * 2 + ("\\'" if m.group(2) else ""), value)
    return f"'{escaped}'"


def how_to_quote(override: str) -> str | None:
    """For an override Hydra could not parse: the same override with its value quoted, as typed in
    a shell; None when it is no `key=value`."""
    match = OVERRIDE.fullmatch(override)
    if match is None:
        return None
    return f'"{match["key"]}={hydra_quoted(match["value"])}"'
