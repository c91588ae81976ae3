"""The template's benchmark: bake the default project and measure it on this machine.

    make bench                                   # everything, 5 repeats (10-15 min on 2 quiet cores)
    .venv/bin/python benchmarks/run.py --quick   # fewer repeats and epochs, to try the harness
    .venv/bin/python benchmarks/run.py --only startup,report --project ~/code/my-project

Prints medians over the repeats with [min–max], next to the targets of the benchmark issue, and
writes every number with the machine's description to benchmarks/results/<time>.json (or --out).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import ablation
import gpu_syncs
import overhead
import per_step
import report_bench
import startup
import sweep
from project import BENCHMARKS, Project, bake_default_project
from timing import BenchmarkError, fmt, machine_info
from workloads import WORKLOADS

PARTS = ("overhead", "per_step", "startup", "sweep", "report")
# Diagnostics for finding what costs time; only with --only.
EXTRA_PARTS = ("ablation",)
DEFAULT_WORKLOADS = "digits-mlp,mnist-cnn"
# On a machine with a CUDA GPU the GPU workload joins the default ones.
GPU_WORKLOAD = "cifar-resnet"
# From the benchmark issues; printed next to the numbers, not enforced. The digits MLP's per-epoch
# ratio has none: 13-step CPU epochs are information, not the regime researchers train in.
TARGETS = {
    "per_epoch_ratio": {"mnist-cnn": "≤ 1.05×", "cifar-resnet": "≤ 1.05×"},
    "fixed_above_plain_s": "≤ 0.5 s",
    "per_step": "≤ 1.5× the floor's",
    "syncs": "0",
    "help": "≤ 1 s",
    "cfg_job": "≤ 1 s",
    "joblib_speedup": "≥ 1.6×",
    "report": "≤ 10 s, ≤ 1 GB",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and epochs, one sweep each")
    parser.add_argument("--project", type=Path, help="an already baked project instead of baking the default")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated, of {','.join(PARTS)} (default: all) and diagnostics {','.join(EXTRA_PARTS)}",
    )
    parser.add_argument(
        "--workloads",
        help=f"overhead workloads, of {','.join(WORKLOADS)} (default {DEFAULT_WORKLOADS}, and "
        f"{GPU_WORKLOAD} where CUDA is available)",
    )
    parser.add_argument("--epochs", help="E1,E2 for every workload (default: per workload, overhead.py)")
    parser.add_argument("--report-runs", type=int, default=10000, help="synthetic runs for report.py")
    parser.add_argument(
        "--mnist-size", default="6000,1000", help="training,test images written for the mnist-cnn workload"
    )
    parser.add_argument(
        "--cifar-size", default="20000,5000", help="training,test images written for the cifar-resnet data"
    )
    parser.add_argument(
        "--resnet-widths",
        default="64,128,256,512",
        help="stage widths of the cifar-resnet workload's ResNet (e.g. 8,16,32,64 to try it on a CPU)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="OMP_NUM_THREADS for every process measured (default: torch's own choice, all cores)",
    )
    parser.add_argument("--out", type=Path, help="the JSON file (default benchmarks/results/<time>.json)")
    args = parser.parse_args(argv)
    args.only = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(args.only) - set(PARTS) - set(EXTRA_PARTS))
    if unknown:
        parser.error(f"--only {','.join(unknown)}: choose from {','.join(PARTS + EXTRA_PARTS)}")
    if args.workloads is None:
        args.workloads = DEFAULT_WORKLOADS + (f",{GPU_WORKLOAD}" if _cuda_available() else "")
    args.workloads = [name.strip() for name in args.workloads.split(",") if name.strip()]
    unknown = sorted(set(args.workloads) - set(WORKLOADS))
    if unknown:
        parser.error(f"--workloads {','.join(unknown)}: choose from {','.join(WORKLOADS)}")
    if args.epochs is not None:
        try:
            e1, e2 = (int(value) for value in args.epochs.split(","))
        except ValueError:
            parser.error(f"--epochs {args.epochs}: give two epoch counts E1,E2, e.g. 2,162")
        if not 1 <= e1 < e2:
            parser.error(f"--epochs {args.epochs}: need 1 <= E1 < E2")
        args.epochs = (e1, e2)
    args.mnist_size = _counts(parser, "--mnist-size", args.mnist_size, "TRAIN,TEST image counts", 2, 100)
    args.cifar_size = _counts(parser, "--cifar-size", args.cifar_size, "TRAIN,TEST image counts", 2)
    args.resnet_widths = _counts(parser, "--resnet-widths", args.resnet_widths, "stage widths", 4)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1 or args.report_runs < 1:
        parser.error("--repeats and --report-runs must be >= 1")
    return args


def _counts(parser, flag: str, text: str, what: str, length: int, minimum: int = 1) -> tuple[int, ...]:
    """`length` comma-separated whole numbers of at least `minimum`, or a one-line error naming `flag`."""
    try:
        values = tuple(int(value) for value in text.split(","))
        if len(values) != length or min(values) < minimum:
            raise ValueError
    except ValueError:
        parser.error(f"{flag} {text}: give {length} comma-separated {what}, each at least {minimum}")
    return values


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def run_overhead(project: Project, args: argparse.Namespace, scratch: Path) -> dict:
    results = {}
    for name in args.workloads:
        workload = WORKLOADS[name]
        if workload.needs_config and not (project.path / workload.needs_config).is_file():
            reason = f"the project has no {workload.needs_config} yet"
            print(f"  {name}: pending, {reason}", flush=True)
            results[name] = {"workload": name, "pending": reason}
            continue
        values, plain_env = data_files(workload, args, scratch)
        if workload.net == "resnet":
            workload = workload.resized(args.resnet_widths)
        epochs = args.epochs or (overhead.QUICK_EPOCHS if args.quick else overhead.EPOCHS)[name]
        results[name] = overhead.measure(project, workload, epochs, args.repeats, values, plain_env)
        if workload.name == GPU_WORKLOAD:
            results[name]["syncs"] = gpu_syncs.measure(project, workload, values, scratch)
    return results


def data_files(workload, args: argparse.Namespace, scratch: Path) -> tuple[dict[str, str], dict[str, str]]:
    if workload.data == "mnist-files":
        return mnist_files(args, scratch)
    if workload.data == "cifar-files":
        return cifar_files(args, scratch)
    return {}, {}


def cifar_files(args: argparse.Namespace, scratch: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The CIFAR-10-shaped archive for both sides, as `mnist_files` does for MNIST."""
    from cifar_files import ARCHIVE, write_cifar_archive

    source = scratch / "cifar-mirror"
    if not (source / ARCHIVE).is_file():
        sizes = "+".join(map(str, args.cifar_size))
        print(f"  writing a CIFAR-10-shaped archive of {sizes} images", flush=True)
    md5 = write_cifar_archive(source, *args.cifar_size)
    values = {"data_dir": str(scratch / "project-data"), "mirror": source.as_uri() + "/", "md5_archive": md5}
    return values, {"BENCH_CIFAR_ARCHIVE": str(source / ARCHIVE)}


def mnist_files(args: argparse.Namespace, scratch: Path) -> tuple[dict[str, str], dict[str, str]]:
    """MNIST-format files for both sides: the project fetches them from a file:// mirror into its
    data folder (checking their MD5s), the plain loop reads them where they were written."""
    from mnist_files import write_mnist_files

    source = scratch / "mnist-mirror"
    md5 = write_mnist_files(source, *args.mnist_size)
    values = {
        "data_dir": str(scratch / "project-data"),
        "mirror": source.as_uri() + "/",
        **{f"md5_{role}": checksum for role, checksum in md5.items()},
    }
    return values, {"BENCH_MNIST_DIR": str(source)}


def row(*cells: str) -> None:
    print("| " + " | ".join(cells) + " |")


def print_table(results: dict) -> None:
    print("\n## Results (median [min–max] over the repeats)\n")
    row("measurement", "project", "plain loop", "ratio / difference", "target")
    row(*["---"] * 5)
    for name, result in results.get("overhead", {}).items():
        target = TARGETS["per_epoch_ratio"].get(name, "")
        if "pending" in result:
            row(f"{name}: per epoch", "pending", "", result["pending"], target)
            continue
        project, plain = result["project"], result["plain"]
        e1, e2 = result["epochs"]
        for label, key, ratio, unit in (
            (f"per epoch (whole process, E={e1},{e2})", "per_epoch_s", "per_epoch_ratio", "ms"),
            ("per epoch (in process)", "epoch_in_process_s", "in_process_epoch_ratio", "ms"),
            ("CPU time per epoch (whole process)", "cpu_per_epoch_s", "cpu_per_epoch_ratio", "ms"),
            ("CPU time per epoch (in process)", "epoch_cpu_in_process_s", "in_process_cpu_epoch_ratio", "ms"),
        ):
            row(
                f"{name}: {label}",
                fmt(project[key], unit),
                fmt(plain[key], unit),
                fmt(result[ratio], "x"),
                target if key == "per_epoch_s" else "",
            )
        row(
            f"{name}: fixed cost",
            fmt(project["fixed_s"]),
            fmt(plain["fixed_s"]),
            "+" + fmt(result["fixed_above_plain_s"]),
            TARGETS["fixed_above_plain_s"],
        )
        row(
            f"{name}: test/acc after {e2} epochs",
            fmt(project["test_acc"], "", 4),
            fmt(plain["test_acc"], "", 4),
            "",
            "",
        )
        row(f"{name}: peak memory", fmt(project["max_rss_mb"], "MB"), fmt(plain["max_rss_mb"], "MB"), "", "")
        if "train_samples" in plain:
            images = plain["train_samples"]
            row(
                f"{name}: training images per second (in process, on {plain['device']})",
                f"{images / project['epoch_in_process_s']['median']:,.0f}",
                f"{images / plain['epoch_in_process_s']['median']:,.0f}",
                "",
                "",
            )
        if "syncs" in result:
            syncs = result["syncs"]
            row(
                f"{name}: host reads per step ({sum(syncs['steps'].values())} steps audited)",
                f"{syncs['project_reads_per_step']:g} by the project, {syncs['other_reads_per_step']:g} by "
                f"Lightning; {syncs['reads_at_log_interval']} at the log interval",
                "0 by construction",
                "",
                TARGETS["syncs"],
            )
        for stage in project["timeline_e1_s"]:
            row(
                f"{name}, {e1}-epoch run: {stage}",
                fmt(project["timeline_e1_s"][stage]),
                fmt(plain["timeline_e1_s"][stage]),
                "",
                "",
            )
    if "per_step" in results:
        steps = results["per_step"]
        for clock in ("wall", "cpu"):
            above = steps[clock]["us_per_step_above_plain"]
            ratio = steps[clock]["project_over_floor"]
            label = "time" if clock == "wall" else "CPU time"
            row(
                f"{steps['workload']}, {label} per step above the plain loop "
                f"({steps['steps_per_epoch']} steps an epoch)",
                fmt(above["project"], "us"),
                f"Lightning's floor {fmt(above['floor'], 'us')}",
                f"{fmt(ratio, 'x')} the floor's; "
                f"{fmt(steps[clock]['project_us_per_step_above_floor'], 'us')} above it"
                if ratio
                else "",
                TARGETS["per_step"] if clock == "wall" else "",
            )
    if "startup" in results:
        start = results["startup"]
        for key in ("help", "cfg_job"):
            heavy = start[key]["imports_torch_lightning_wandb"]
            imported = f"imports {', '.join(heavy)}" if heavy else "imports no torch/Lightning/wandb"
            row(f"`{start[key]['command']}`", fmt(start[key]["wall_s"]), "", imported, TARGETS[key])
        first = start["first_step"]
        row(
            "time to first training step (default config)",
            fmt(first["project_s"]),
            fmt(first["plain_s"]),
            "",
            "",
        )
    for sweeps in results.get("sweep", []):
        for name, variant in sweeps["variants"].items():
            label = f"sweep of {sweeps['jobs']} jobs × {sweeps['epochs']} epochs, {name}"
            threads = f"torch threads per job {variant['torch_threads_per_job']}"
            row(
                label,
                fmt(variant["wall_s"]),
                "",
                f"speed-up {fmt(variant['speedup'], 'x')}; {threads}",
                TARGETS["joblib_speedup"] if name == "joblib" else "",
            )
    if "report" in results:
        report = results["report"]
        row(
            f"report.py over {report['runs']:,} runs",
            f"{fmt(report['wall_s'])}, peak {fmt(report['max_rss_mb'], 'MB')}",
            "",
            "",
            TARGETS["report"],
        )
    if "ablation" in results:
        for name, cost in results["ablation"]["calls"].items():
            row(
                f"CPU per epoch inside {name} ({cost['calls_per_epoch']:g} calls)",
                fmt(cost["cpu_s_per_epoch"], "ms"),
                "",
                "",
                "",
            )
        for name, variant in results["ablation"]["variants"].items():
            row(
                f"per epoch in process, {name}",
                f"{fmt(variant['epoch_s'], 'ms')}, CPU {fmt(variant['epoch_cpu_s'], 'ms')}",
                "",
                "",
                "",
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if args.threads:
        # Inherited by every process started from here, project and plain loop alike.
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    results: dict = {"machine": machine_info(), "arguments": {**vars(args), "project": str(args.project)}}
    load, cores = os.getloadavg()[0], results["machine"]["cores"]
    if load > 0.5 * cores:
        print(f"Note: load average {load:.1f} on {cores} cores before starting: expect noisy numbers")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        scratch = Path(tmp)
        try:
            path = args.project.resolve() if args.project else bake_default_project(scratch / "baked")
            print(f"Project: {path}", flush=True)
            project = Project(path, log_dir=scratch / "logs")
            if "overhead" in args.only:
                print("Overhead per epoch and fixed cost:", flush=True)
                results["overhead"] = run_overhead(project, args, scratch)
            if "per_step" in args.only:
                print("Per step, at batch 8:", flush=True)
                epochs = per_step.QUICK_EPOCHS if args.quick else per_step.EPOCHS
                results["per_step"] = per_step.measure(project, args.repeats, epochs)
            if "startup" in args.only:
                print("Start-up:", flush=True)
                results["startup"] = startup.measure(project, args.repeats)
            if "sweep" in args.only:
                print("Sweeps:", flush=True)
                # Short jobs, where start-up dominates, and jobs of the default length (20 epochs).
                lengths = [sweep.EPOCHS] if args.quick else [sweep.EPOCHS, sweep.DEFAULT_EPOCHS]
                repeats = 1 if args.quick else args.repeats
                results["sweep"] = [sweep.measure(project, repeats, epochs=epochs) for epochs in lengths]
            if "report" in args.only:
                print(f"report.py over {args.report_runs} runs:", flush=True)
                results["report"] = report_bench.measure(project, args.repeats, args.report_runs)
            if "ablation" in args.only:
                print("Per-epoch cost of each part of the default set-up:", flush=True)
                results["ablation"] = ablation.measure(project, args.repeats)
        except (BenchmarkError, FileNotFoundError) as error:
            print(f"benchmarks/run.py: {error}", file=sys.stderr)
            return 1
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["total_s"] = time.perf_counter() - started
    print_table(results)
    out = args.out or BENCHMARKS / "results" / f"{datetime.now():%Y-%m-%d_%H-%M-%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    machine = results["machine"]
    print(
        f"\n{machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"torch {machine['torch']}, Lightning {machine['lightning']}; load average "
        f"{machine['load_average_at_start'][0]:.1f} at start, {machine['load_average_at_end'][0]:.1f} at "
        f"end; {results['total_s'] / 60:.1f} min"
    )
    print(f"Written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
