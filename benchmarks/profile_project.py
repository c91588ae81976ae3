"""Where the project's time goes: cProfile and Lightning's simple profiler on runs of two lengths.

    .venv/bin/python benchmarks/profile_project.py [--project DIR] [--workload digits-mlp] [--epochs 2,12]

cProfile counts CPU time here (benchmarks/cpu_profile.py), so other work on the machine does not
show up in it. A function's per-epoch cost is (its time in the E2-epoch run - in the E1-epoch run)
/ (E2 - E1), its fixed cost what the E1 run spends beyond E1 epochs of it. cProfile slows Python
code more than the C++ kernels it calls, so its shares overstate Python overhead; Lightning's
simple profiler times each hook without that distortion. Prints per-epoch self time by area, the
costliest functions per epoch and once, and the per-epoch cost of each Lightning hook.
"""

import argparse
import os
import pstats
import re
import shutil
import tempfile
from pathlib import Path

from project import BENCHMARKS, Project, bake_default_project
from workloads import WORKLOADS

# Self time of a function counted in the first area whose pattern its file (or builtin's name) matches.
AREAS = (
    ("imports", r"<frozen importlib|marshal|_imp\b|zipimport"),
    (
        "checkpoint writes",
        r"model_checkpoint\.py|cloud_io|serialization\.py|atomic_checkpoint_io|random_state\.py",
    ),
    ("progress bar (rich)", r"callbacks/progress|/rich/"),
    ("torchmetrics", r"torchmetrics/"),
    ("logging (Lightning logger connector, loggers)", r"logger_connector|/loggers/|csv_logs"),
    ("project callbacks", r"/callbacks/(epoch_history|non_finite_loss|same_config)"),
    ("other Lightning callbacks", r"lightning/pytorch/callbacks/"),
    ("Lightning loops, trainer, strategy", r"lightning/"),
    ("DataLoader, collate", r"torch/utils/data/"),
    ("optimizer (Python)", r"torch/optim/"),
    (
        "torch C++ (kernels, autograd)",
        r"torch\._C|<built-in method torch|of 'torch\.|_VariableFunctions|autograd",
    ),
    ("torch Python (nn, functional)", r"torch/"),
    ("hydra, omegaconf", r"hydra/|omegaconf/"),
)


# Functions whose per-epoch cumulative time answers "what does this part cost".
FOCUS = (
    ("the module's step (forward, loss, metrics, log)", r"models/\w+_module\.py:\d+\(_step\)"),
    ("the network's forward", r"nets/\w+\.py:\d+\(forward\)"),
    ("torchmetrics forward (update + batch value)", r"torchmetrics/metric\.py:\d+\(forward\)"),
    ("torchmetrics compute", r"torchmetrics/metric\.py:\d+\(wrapped_func\)"),
    ("LightningModule.log", r"lightning/pytorch/core/module\.py:\d+\(log\)"),
    ("backward", r"torch/_tensor\.py:\d+\(backward\)"),
    ("optimizer step (Adam)", r"torch/optim/adamw?\.py:\d+\(step\)"),
    ("zero_grad", r"torch/optim/optimizer\.py:\d+\(zero_grad\)"),
    ("DataLoader next", r"dataloader\.py:\d+\(__next__\)"),
    ("collate", r"collate\.py:\d+\(default_collate\)"),
    ("checkpoint save", r"(trainer\.py:\d+\(save_checkpoint\)|model_checkpoint\.py:\d+\(_save_checkpoint\))"),
    ("torch.save", r"serialization\.py:\d+\(save\)"),
    ("progress bar", r"rich_progress\.py:\d+\((on_train_batch_end|_update)\)"),
    ("logger connector", r"logger_connector\.py:\d+\(\w+\)"),
    ("CSV logger", r"csv_logs\.py:\d+\((log_metrics|save)\)"),
    ("project callbacks", r"callbacks/(epoch_history|non_finite_loss|random_state)\.py"),
    ("LR monitor", r"lr_monitor\.py:\d+\(\w+\)"),
    ("early stopping", r"early_stopping\.py:\d+\(\w+\)"),
    ("validation loop", r"evaluation_loop\.py:\d+\(run\)"),
)


def run_profiled(project: Project, overrides: list[str], out: Path, log_dir: Path) -> None:
    """train.py under cProfile, counting CPU time (a busy machine's waits left out)."""
    profiler = str(BENCHMARKS / "cpu_profile.py")
    project.script(profiler, str(out), "train.py", *overrides, f"paths.log_dir={log_dir}", timeout=3600)


def stats_by_function(path: Path) -> dict[tuple, tuple[float, float]]:
    """(file, line, function) -> (self time, cumulative time)."""
    return {func: (tt, ct) for func, (_, _, tt, ct, _) in pstats.Stats(str(path)).stats.items()}


def label(func: tuple) -> str:
    file, line, name = func
    if file == "~":
        return name
    short = re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", file)
    return f"{short}:{line}({name})"


def area(func: tuple) -> str:
    text = label(func) if func[0] == "~" else func[0]
    for name, pattern in AREAS:
        if re.search(pattern, text):
            return name
    return "other"


def per_epoch_and_fixed(short: dict, long: dict, e1: int, e2: int, index: int) -> tuple[dict, dict]:
    per_epoch, fixed = {}, {}
    for func in set(short) | set(long):
        a = short.get(func, (0.0, 0.0))[index]
        b = long.get(func, (0.0, 0.0))[index]
        per_epoch[func] = (b - a) / (e2 - e1)
        fixed[func] = a - e1 * per_epoch[func]
    return per_epoch, fixed


def simple_profiler_table(text: str) -> dict[str, float]:
    """Lightning's simple profiler report of the fit stage: action -> total seconds."""
    fit = text.split("FIT Profiler Report", 1)[-1].split("TEST Profiler Report", 1)[0]
    totals = {}
    for line in fit.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if len(parts) >= 6 and parts[2] not in ("-", "") and re.fullmatch(r"[0-9.e+-]+", parts[4]):
            name = parts[1].replace("{'monitor': None", "(last){'monitor': None")
            totals[re.sub(r"\{.*?\}", "", name)] = float(parts[4])
    return totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="an already baked project (default: bake one)")
    digits = sorted(name for name, workload in WORKLOADS.items() if workload.data == "digits")
    parser.add_argument("--workload", choices=digits, default="digits-mlp")
    parser.add_argument("--epochs", default="2,12", help="E1,E2")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the profiled runs")
    parser.add_argument("--keep", type=Path, help="keep the .prof files here (e.g. for snakeviz)")
    args = parser.parse_args(argv)
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    e1, e2 = (int(value) for value in args.epochs.split(","))
    workload = WORKLOADS[args.workload]
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        scratch = Path(tmp)
        path = args.project.resolve() if args.project else bake_default_project(scratch / "baked")
        project = Project(path, log_dir=scratch / "logs")
        profiles, hooks = {}, {}
        for epochs in (e1, e2):
            profiles[epochs] = scratch / f"{epochs}.prof"
            run_profiled(
                project, workload.project_overrides(epochs), profiles[epochs], scratch / f"logs{epochs}"
            )
            timed = project.train(
                *workload.project_overrides(epochs),
                "trainer.profiler=simple",
                log_dir=scratch / f"simple{epochs}",
            )
            hooks[epochs] = simple_profiler_table(timed.stdout + timed.stderr)
        short, long = stats_by_function(profiles[e1]), stats_by_function(profiles[e2])
        calls = {func: ncalls for func, (_, ncalls, *_) in pstats.Stats(str(profiles[e2])).stats.items()}
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for epochs, prof in profiles.items():
                shutil.copy(prof, args.keep / f"{workload.name}_{epochs}_epochs.prof")

    own_per_epoch, own_fixed = per_epoch_and_fixed(short, long, e1, e2, index=0)
    cum_per_epoch, cum_fixed = per_epoch_and_fixed(short, long, e1, e2, index=1)
    print(
        f"# {workload.name}: {workload.description}; E1={e1}, E2={e2}\n"
        "(cProfile on, counting CPU time: the Python parts are inflated)\n"
    )
    for title, values in (("per epoch", own_per_epoch), ("fixed (start-up, once per run)", own_fixed)):
        areas: dict[str, float] = {}
        for func, seconds in values.items():
            areas[area(func)] = areas.get(area(func), 0.0) + seconds
        total = sum(areas.values())
        print(f"## Self time by area, {title}: {total * 1000:.1f} ms in all")
        for name, seconds in sorted(areas.items(), key=lambda item: -item[1]):
            print(f"  {seconds * 1000:9.1f} ms  {100 * seconds / total:5.1f} %  {name}")
            ranked = sorted((func for func in values if area(func) == name), key=lambda func: -values[func])
            for func in ranked[:4]:
                print(f"  {'':9s}    {values[func] * 1000:9.1f} ms  {label(func)}")
        print()
    print(f"## Per epoch, cumulative (ms; calls in the {e2}-epoch run)")
    for title, pattern in FOCUS:
        matching = [func for func in cum_per_epoch if re.search(pattern, label(func))]
        for func in sorted(matching, key=lambda func: -cum_per_epoch[func])[:2]:
            print(f"  {cum_per_epoch[func] * 1000:9.1f}  {calls.get(func, 0):6d}  {title}: {label(func)}")
    print()
    print("## Costliest functions once per run (cumulative, ms)")
    for func, seconds in sorted(cum_fixed.items(), key=lambda item: -item[1])[: args.top]:
        print(f"  {seconds * 1000:9.1f}  {label(func)}")
    print()
    print("## Lightning hooks per epoch (simple profiler, no cProfile), ms")
    names = set(hooks[e1]) | set(hooks[e2])
    per_hook = {name: (hooks[e2].get(name, 0.0) - hooks[e1].get(name, 0.0)) / (e2 - e1) for name in names}
    for name, seconds in sorted(per_hook.items(), key=lambda item: -item[1])[: args.top + 10]:
        print(f"  {seconds * 1000:9.2f}  {name}")


if __name__ == "__main__":
    main()
