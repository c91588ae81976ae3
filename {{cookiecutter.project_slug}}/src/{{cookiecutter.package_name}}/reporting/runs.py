"""Find the runs under some directories and load what they left behind (run.json, history.csv) into pandas.

Runs are grouped by their overrides without the ones that only repeat a configuration (seed, fold).
A group counts each seed (and fold) once: two runs of one seed are one replicate run twice.
"""

import csv
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..cli.overrides import override_key, override_value

RUN_FILE = "run.json"
HISTORY_FILE = "history.csv"
COMPLETED = "completed"
# Stopped early by a hyper-parameter search's pruner: neither completed nor failed.
PRUNED = "pruned"
# Classification: accuracy; regression: R² and the errors in the targets' units; both: the loss.
DEFAULT_METRICS = ("test/acc", "test/r2", "test/mae", "test/mse", "test/loss")
DEFAULTS_LABEL = "(defaults)"
UNREADABLE_LABEL = f"(unreadable {RUN_FILE})"
# Repetitions of one configuration: they make up a group's sample instead of splitting it.
REPEAT_KEYS = ("seed", "data.fold")
# Where a run writes and what it resumes from do not change what it measures.
IGNORED_KEYS = ("ckpt_path",)
IGNORED_PREFIXES = ("hydra.", "hydra/", "paths.")
HINT = "give a run or sweep directory, e.g. logs/train/multiruns/<date>"
# `report.py latest`: the sweep started last under logs/<task>/multiruns/.
LATEST = "latest"
RUN_COLUMNS = ["run_dir", "status", "group", "overrides", "error", "segments"]
DROPPED_COLUMNS = ["run_dir", "group", "status", "reason"]
METRIC_COLUMNS = ["run_dir", "group", "metric", "value", "replicate"]


class ReportError(Exception):
    """Input a report cannot be made from; the message is one line for the user."""


@dataclass
class Runs:
    """Everything found under `paths`, as tables keyed by run directory."""

    paths: list[Path]
    runs: pd.DataFrame  # one row per counted run: run_dir, status, group, overrides, error, segments
    # One row per completed run and metric: run_dir, group, metric, value, and `replicate`: the
    # run's seed and fold ("seed=3", "seed=3 fold=1"), or its run_dir when run.json records no seed.
    metrics: pd.DataFrame
    history: pd.DataFrame  # one row per completed run, epoch and metric: run_dir, group, epoch, metric, value
    metric_names: list[str]  # every metric any run recorded
    warnings: list[str]
    common: tuple[str, ...] = ()  # overrides shared by every run, left out of the group labels
    pooled_folds: bool = False  # some groups pool the folds of a k-fold cross-validation
    # Runs not counted because another run of their group has the same seed and fold: run_dir, group,
    # status, reason.
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DROPPED_COLUMNS))


def group_overrides(overrides: Iterable[str]) -> tuple[str, ...]:
    """The overrides that define a configuration: `+`/`++` stripped, repetitions and paths dropped, sorted."""
    kept = []
    for override in overrides:
        override = str(override).lstrip("+")
        key = override_key(override)
        if key in REPEAT_KEYS or key in IGNORED_KEYS or key.startswith(IGNORED_PREFIXES):
            continue
        kept.append(override)
    return tuple(sorted(set(kept)))


def group_label(overrides: Iterable[str]) -> str:
    """E.g. `model=mlp trainer.max_epochs=5` for ["seed=2", "model=mlp", "trainer.max_epochs=5"]."""
    return " ".join(group_overrides(overrides)) or DEFAULTS_LABEL


def label(overrides: Iterable[str], common: tuple[str, ...] = ()) -> str:
    """A group's name: its overrides but those every run shares."""
    return " ".join(o for o in overrides if o not in common) or DEFAULTS_LABEL


def newest_sweep(log_dir: Path) -> Path:
    """The sweep directory whose multirun.yaml Hydra wrote last (when a sweep starts or is re-run)."""
    sweeps = [file.parent for file in log_dir.glob("*/multiruns/*/multirun.yaml")]
    if not sweeps:
        raise ReportError(
            f"{LATEST}: no sweep under {log_dir}/<task>/multiruns/; run one (python train.py -m seed=1,2,3) "
            "or give a run or sweep directory"
        )
    return max(sweeps, key=lambda sweep: (sweep / "multirun.yaml").stat().st_mtime)


def expand_latest(paths: list[Path], log_dir: Path) -> list[Path]:
    """`latest` (when no file of that name is here) is the newest sweep."""
    return [newest_sweep(log_dir) if str(path) == LATEST and not path.exists() else path for path in paths]


def find_run_files(paths: list[Path]) -> list[Path]:
    """Every run.json at any depth under each path; each path must hold at least one."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            files = runs_below(path)
        else:
            files = [path.resolve()] if path.is_file() and path.name == RUN_FILE else []
        if not files:
            raise ReportError(f"no {RUN_FILE} under {path} ({HINT})")
        # Overlapping paths (a sweep and one of its runs) must not count a run twice.
        found.update(dict.fromkeys(files))
    return list(found)


def runs_below(folder: Path) -> list[Path]:
    """Every run.json at any depth under `folder`, sorted, with the folder's symbolic links resolved.

    os.walk, not Path.rglob, and not into a run's own folder (.hydra/, manifest/, checkpoints/: no
    run lives inside another): 10,000 runs have 50,000 folders, 40,000 of them inside runs."""
    found = []
    for parent, folders, names in os.walk(folder.resolve()):
        if RUN_FILE in names:
            found.append(Path(parent, RUN_FILE))
            folders.clear()
    return sorted(found)


def read_record(path: Path) -> tuple[dict, str | None]:
    """The parsed run.json, or a failed record and a warning when it cannot be read."""
    try:
        record = json.loads(path.read_text())
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        return record, None
    except (OSError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        unreadable = {"status": "unreadable", "error": f"unreadable {RUN_FILE}: {reason}"}
        return unreadable, f"{path}: cannot read it ({reason}); counted as a failed run"


def first_line_of_error(record: dict) -> str:
    status = record.get("status")
    if status == "running":
        return "no final status: still running, or killed before it could record one"
    if status == PRUNED:
        return "stopped early: the search's pruner found it unpromising"
    lines = str(record.get("error") or "").strip().splitlines()
    return lines[0] if lines else f"status {status!r}"


def as_float(value) -> float:
    """A metric value as a float; NaN for anything that is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def read_history(path: Path) -> tuple[list[dict[str, str]] | None, str | None]:
    """history.csv's rows as they are (one per epoch), None if absent, or a warning if unreadable.

    The csv module, not pandas: one DataFrame per run took most of report.py's time for 10,000
    runs; `long_history` builds one for all of them."""
    if not path.is_file():
        return None, None
    try:
        with open(path, newline="") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return None, f"{path}: cannot read it ({str(error).splitlines()[0]}); no curves from this run"
    if not reader.fieldnames:
        return None, f"{path}: cannot read it (the file is empty); no curves from this run"
    if any(None in row for row in rows):
        return None, f"{path}: cannot read it (a row has more values than its header); no curves from it"
    if "epoch" not in reader.fieldnames:
        return None, f"{path}: no `epoch` column; no curves from this run"
    # A resumed run may repeat an epoch: its last row is the one that counts.
    return list({row["epoch"]: row for row in rows}.values()), None


def long_history(histories: list[dict[str, str]]) -> pd.DataFrame:
    """Every run's history rows (with run_dir and group) in long form (run_dir, group, epoch, metric,
    value), melted once for all runs: melting each run's table on its own took most of report.py's
    time for 1,000 runs."""
    columns = ["run_dir", "group", "epoch", "metric", "value"]
    if not histories:
        return pd.DataFrame(columns=columns)
    wide = pd.DataFrame.from_records(histories)
    long = wide.melt(id_vars=["run_dir", "group", "epoch"], var_name="metric", value_name="value")
    long["epoch"] = pd.to_numeric(long["epoch"], errors="coerce")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long.dropna(subset=["epoch", "value"])[columns]


def shared_overrides(override_sets: list[tuple[str, ...]]) -> tuple[str, ...]:
    """Overrides every run has, when the runs differ otherwise: they would only lengthen each label.

    Kept when leaving them out would leave some group with no name of its own.
    """
    if len(set(override_sets)) < 2:
        return ()
    common = set.intersection(*(set(overrides) for overrides in override_sets))
    if any(set(overrides) <= common for overrides in override_sets):
        return ()
    return tuple(sorted(common))


def replicate(record: dict) -> tuple[str, str | None] | None:
    """The seed and fold a run repeats its configuration with; None when the run.json does not say
    (no seed recorded), so that it is never merged with another run."""
    overrides = record.get("overrides") or []
    seed = record.get("seed")
    seed = override_value(overrides, "seed") if seed is None else str(seed)
    if seed is None:
        return None
    return seed, override_value(overrides, "data.fold")


def replicate_label(record: dict, run_dir: str) -> str:
    """What pairs a run with the baseline's run of the same seed (and fold): "seed=3 fold=1"."""
    key = replicate(record)
    if key is None:
        return run_dir
    seed, fold = key
    return f"seed={seed}" + (f" fold={fold}" if fold is not None else "")


def finished(file: Path, record: dict) -> float:
    """When the run ended (or, unfinished, started), as a timestamp; the file's time if run.json has none."""
    for key in ("finished_at", "started_at"):
        try:
            return datetime.fromisoformat(str(record[key])).timestamp()
        except (KeyError, ValueError):
            continue
    return file.stat().st_mtime


def one_run_per_replicate(records: list[tuple[Path, dict, tuple[str, ...]]]) -> tuple[list, list]:
    """Of the runs with the same group, seed and fold, the latest completed one (or, none completed,
    the latest attempt); the others with the reason they are not counted."""

    def rank(entry) -> tuple[bool, float]:
        file, record, _ = entry
        return record.get("status") == COMPLETED, finished(file, record)

    replicates: dict[tuple, list] = {}
    for index, entry in enumerate(records):
        seed_and_fold = replicate(entry[1]) if entry[1].get("status") != "unreadable" else None
        key = (entry[2], *seed_and_fold) if seed_and_fold else (index,)
        replicates.setdefault(key, []).append(entry)
    kept, dropped = [], []
    for key, entries in replicates.items():
        winner = max(entries, key=rank)
        kept.append(winner)
        dropped += [(entry, why_dropped(entry[1], key, winner)) for entry in entries if entry is not winner]
    order = {id(entry): index for index, entry in enumerate(records)}
    return sorted(kept, key=lambda entry: order[id(entry)]), dropped


def why_dropped(record: dict, key: tuple, winner: tuple) -> str:
    """E.g. `seed 42 again (completed): <dir> completed later and is the one counted`."""
    replicate_name = f"seed {key[1]}" + (f", fold {key[2]}" if key[2] is not None else "")
    counted = winner[0].parent
    if winner[1].get("status") != COMPLETED:
        why = f"{counted} is a later attempt"
    elif record.get("status") == COMPLETED:
        why = f"{counted} completed later and is the one counted"
    else:
        why = f"{counted} completed it"
    return f"{replicate_name} again ({record.get('status')}): {why}"


def load_runs(paths: list[Path]) -> Runs:
    """Read every run under `paths`; raises ReportError when a path holds no run."""
    runs, metrics, histories, warnings = [], [], [], []
    metric_names: dict[str, None] = {}
    records = []
    for file in find_run_files(paths):
        record, warning = read_record(file)
        if warning:
            warnings.append(warning)
        records.append((file, record, group_overrides(record.get("overrides") or [])))
    tasks = {record.get("task_name") for _, record, _ in records if record.get("status") != "unreadable"}
    if len(tasks) > 1:
        # Training and evaluation runs of one configuration measure different things: keep them apart.
        records = [(f, r, tuple(sorted((*o, f"task={r.get('task_name')}")))) for f, r, o in records]
    records, repeats = one_run_per_replicate(records)
    pooled_folds = any(override_value(r.get("overrides") or [], "data.fold") for _, r, _ in records)
    common = shared_overrides([o for _, record, o in records if record.get("status") != "unreadable"])
    dropped = [
        {"run_dir": str(file.parent), "status": record.get("status"), "group": label(overrides, common)}
        | {"reason": reason}
        for (file, record, overrides), reason in repeats
    ]
    for file, record, all_overrides in records:
        run_dir, status = str(file.parent), record.get("status")
        overrides = tuple(o for o in all_overrides if o not in common)
        group = UNREADABLE_LABEL if status == "unreadable" else label(overrides, common)
        error = "" if status == COMPLETED else first_line_of_error(record)
        segments = len(record.get("segments") or [None])
        runs.append(
            {"run_dir": run_dir, "status": status, "group": group, "overrides": overrides, "error": error}
            | {"segments": segments}
        )
        recorded = record.get("metrics") if isinstance(record.get("metrics"), dict) else {}
        metric_names.update(dict.fromkeys(recorded))
        if status != COMPLETED:
            continue
        pairs_with = replicate_label(record, run_dir)
        for metric, value in recorded.items():
            metrics.append(
                {"run_dir": run_dir, "group": group, "metric": metric, "value": as_float(value)}
                | {"replicate": pairs_with}
            )
        history, warning = read_history(file.parent / HISTORY_FILE)
        if warning:
            warnings.append(warning)
        if history is not None:
            histories += [row | {"run_dir": run_dir, "group": group} for row in history]
    return Runs(
        paths=list(paths),
        runs=pd.DataFrame(runs, columns=RUN_COLUMNS),
        metrics=pd.DataFrame(metrics, columns=METRIC_COLUMNS),
        history=long_history(histories),
        metric_names=sorted(metric_names),
        warnings=warnings,
        common=common,
        pooled_folds=pooled_folds,
        dropped=pd.DataFrame(dropped, columns=DROPPED_COLUMNS),
    )


def select_metrics(runs: Runs, requested: list[str] | None) -> list[str]:
    """The metrics asked for, or by default those of DEFAULT_METRICS recorded, or else every metric."""
    available = runs.metric_names
    if requested:
        for metric in requested:
            if metric not in available:
                found = ", ".join(available) or "none"
                raise ReportError(f"no run recorded the metric {metric!r}; metrics found: {found}")
        return list(dict.fromkeys(requested))
    return [metric for metric in DEFAULT_METRICS if metric in available] or available


def match_baseline(baseline: str, runs: Runs) -> str:
    """The one group whose overrides include all of `baseline`'s (space-separated); an exact match wins."""
    wanted = set() if baseline.strip() == DEFAULTS_LABEL else set(group_overrides(baseline.split()))
    wanted -= set(runs.common)
    groups = {
        row.group: set(row.overrides)
        for row in runs.runs.drop_duplicates("group").itertuples()
        if row.group != UNREADABLE_LABEL
    }
    # Without this, a baseline whose overrides are a subset of another group's could never be chosen.
    exact = [group for group, overrides in groups.items() if overrides == wanted]
    matches = exact or sorted(group for group, overrides in groups.items() if wanted <= overrides)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ReportError(f"--baseline {baseline!r} matches {len(matches)} groups: {', '.join(matches)}")
    raise ReportError(f"--baseline {baseline!r} matches no group; groups are: {', '.join(sorted(groups))}")
