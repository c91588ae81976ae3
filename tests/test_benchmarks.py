"""benchmarks/: its cheapest paths run and print numbers, and its plain loop trains what the project trains.

No timing is asserted: the numbers depend on the machine. What is asserted could fail: the plain
loop training and reporting, the import detector telling torch from no torch, the MNIST-format
files reading back, and the benchmark printing and saving its table.
"""

import gzip
import hashlib
import json
import subprocess
import sys

import pytest
from conftest import BIN, TEMPLATE, run

BENCHMARKS = TEMPLATE / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from cifar_files import ARCHIVE, read_cifar_archive, write_cifar_archive  # noqa: E402
from mnist_files import read_mnist_files, write_mnist_files  # noqa: E402
from startup import heavy_imports, imports  # noqa: E402
from timing import fmt, summary  # noqa: E402


def test_benchmarks_are_ruff_clean():
    run([BIN / "ruff", "check", "benchmarks"], TEMPLATE)
    run([BIN / "ruff", "format", "--check", "benchmarks"], TEMPLATE)


def test_summary_and_its_format():
    stats = summary([0.3, 0.1, 0.2])
    assert (stats["median"], stats["min"], stats["max"], stats["n"]) == (0.2, 0.1, 0.3, 3)
    assert fmt(stats, "ms") == "200 ms [100–300]"
    assert fmt(summary([1.5]), "x") == "1.5×"
    assert fmt(None) == "n/a"


@pytest.mark.parametrize(("statement", "expected"), [("import json", []), ("import torch", ["torch"])])
def test_import_detector_sees_torch_only_when_imported(statement, expected):
    traced = subprocess.run(
        [BIN / "python", "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True
    )
    assert heavy_imports(imports(traced.stderr)) == expected


def test_mnist_format_files_read_back(tmp_path):
    md5 = write_mnist_files(tmp_path, train=120, test=30)
    assert (
        md5["train_images"] == hashlib.md5((tmp_path / "train-images-idx3-ubyte.gz").read_bytes()).hexdigest()
    )
    # The IDX header a real MNIST reader checks: magic 2051, then count, rows, columns (big-endian).
    header = gzip.decompress((tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes())[:16]
    assert [int.from_bytes(header[i : i + 4], "big") for i in range(0, 16, 4)] == [2051, 30, 28, 28]
    (train_x, train_y), (test_x, test_y) = read_mnist_files(tmp_path)
    assert train_x.shape == (120, 28, 28) and test_x.shape == (30, 28, 28)
    assert set(train_y.tolist()) <= set(range(10)) and len(set(train_y.tolist())) > 5
    assert train_x.min() >= 0 and train_x.max() <= 255


def test_cifar_shaped_archive_reads_back(tmp_path):
    md5 = write_cifar_archive(tmp_path, train=100, test=20)
    assert md5 == hashlib.md5((tmp_path / ARCHIVE).read_bytes()).hexdigest()
    (train_x, train_y), (test_x, test_y) = read_cifar_archive(tmp_path / ARCHIVE)
    assert train_x.shape == (100, 3, 32, 32) and test_x.shape == (20, 3, 32, 32)
    assert str(train_x.dtype) == "uint8" and len(set(train_y.tolist())) > 5


@pytest.mark.slow
def test_the_gpu_workload_runs_on_a_cpu_with_a_tiny_resnet(bake, tmp_path):
    """cifar-resnet (bf16-mixed, channels-last, data=cifar10 through a file:// mirror) with widths
    8..64: both sides reach the same test loss, and the sync audit ran and found no project read."""
    out = tmp_path / "results.json"
    args = ["--project", bake(), "--only", "overhead", "--workloads", "cifar-resnet", "--repeats", "1"]
    args += ["--epochs", "1,2", "--cifar-size", "600,200", "--resnet-widths", "8,16,32,64", "--out", out]
    result = run([BIN / "python", BENCHMARKS / "run.py", *args], tmp_path, timeout=1200)
    workload = json.loads(out.read_text())["overhead"]["cifar-resnet"]
    project_side, plain = workload["project"], workload["plain"]
    assert project_side["test_loss"]["median"] == pytest.approx(plain["test_loss"]["median"], rel=1e-5)
    assert plain["train_samples"] == 540 and plain["device"] in ("cpu", "cuda:0")
    syncs = workload["syncs"]
    assert syncs["steps"]["train"] > 0 and syncs["project_reads_per_step"] == 0, syncs
    assert "| cifar-resnet: training images per second (in process, on " in result.stdout
    assert "| cifar-resnet: host reads per step (" in result.stdout


@pytest.mark.slow
def test_the_per_step_part_compares_the_project_with_lightnings_floor(bake, tmp_path):
    out = tmp_path / "results.json"
    args = ["--project", bake(), "--only", "per_step", "--quick", "--repeats", "1", "--out", out]
    result = run([BIN / "python", BENCHMARKS / "run.py", *args], tmp_path, timeout=1200)
    per_step = json.loads(out.read_text())["per_step"]
    # 1257 training samples at batch 8: 157 steps (the last, of one sample, dropped), 34 of validation.
    assert per_step["steps_per_epoch"] == 191
    for side in ("plain loop", "floor", "project"):
        assert per_step["wall"]["epoch_s"][side]["median"] > 0
    assert "per step above the plain loop (191 steps an epoch)" in result.stdout


def test_plain_loop_trains_and_reports(tmp_path):
    out = tmp_path / "plain.json"
    result = run([BIN / "python", BENCHMARKS / "plain_loop.py", "--epochs", "2", "--out", out], tmp_path)
    record = json.loads(out.read_text())
    assert len(record["history"]) == 2 and len(record["epoch_s"]) == 2
    assert record["first_step_s"] > 0
    # Two epochs of the digits MLP: far above the 0.1 of guessing.
    assert record["test/acc"] > 0.8, record
    assert f"test/acc={record['test/acc']:.4f}" in result.stdout


@pytest.mark.slow
def test_plain_loop_trains_exactly_what_the_project_trains(bake, tmp_path):
    """Same seed, split, network, optimiser, schedule, shuffling: the same test loss, to float precision.

    If this fails, the project's defaults or its training changed and the plain loop (workloads.py,
    plain_loop.py) no longer measures the same work: align it before trusting any ratio.
    """
    from workloads import WORKLOADS

    project = bake()
    workload = WORKLOADS["digits-mlp"]
    env = {"PYTHONPATH": str(project / "src")}
    run(
        [BIN / "python", "train.py", *workload.project_overrides(2), f"paths.log_dir={tmp_path}"],
        project,
        **env,
    )
    (record_path,) = tmp_path.glob("train/runs/*/run.json")
    trained = json.loads(record_path.read_text())["metrics"]
    out = tmp_path / "plain.json"
    run([BIN / "python", BENCHMARKS / "plain_loop.py", "--epochs", "2", "--out", out], tmp_path)
    plain = json.loads(out.read_text())
    assert plain["test/loss"] == pytest.approx(trained["test/loss"], abs=1e-4), (plain, trained)
    assert plain["test/acc"] == pytest.approx(trained["test/acc"], abs=1e-6)
    assert plain["val/acc_best"] == pytest.approx(trained["val/acc_best"], abs=1e-6)


@pytest.mark.slow
def test_overhead_runs_both_workloads_and_both_sides_agree(bake, tmp_path):
    """The overhead path end to end on tiny runs, the MNIST-format files fetched by the project's
    data=mnist through a file:// mirror; each side's test accuracy equal to the other's."""
    project = bake()
    out = tmp_path / "results.json"
    args = ["--project", project, "--only", "overhead", "--workloads", "digits-mlp,mnist-cnn"]
    args += ["--repeats", "1", "--epochs", "1,2", "--mnist-size", "300,100", "--out", out]
    result = run([BIN / "python", BENCHMARKS / "run.py", *args], tmp_path, timeout=1200)
    overhead = json.loads(out.read_text())["overhead"]
    for name in ("digits-mlp", "mnist-cnn"):
        assert "pending" not in overhead[name], overhead[name]
        project_side, plain = overhead[name]["project"], overhead[name]["plain"]
        for side in (project_side, plain):
            assert side["wall_s"]["1"]["median"] > 0 and side["wall_s"]["2"]["median"] > 0
            assert side["epoch_cpu_in_process_s"]["median"] > 0
        assert project_side["test_acc"]["median"] == pytest.approx(plain["test_acc"]["median"], abs=1e-6)
        assert f"| {name}: per epoch (whole process, E=1,2) |" in result.stdout
        assert f"| {name}: fixed cost |" in result.stdout


@pytest.mark.slow
def test_benchmark_bakes_and_prints_report_and_startup_numbers(tmp_path):
    out = tmp_path / "results.json"
    args = ["--only", "report,startup", "--repeats", "1", "--report-runs", "50", "--out", out]
    result = run([BIN / "python", BENCHMARKS / "run.py", *args], tmp_path, timeout=900)
    results = json.loads(out.read_text())
    assert results["report"]["runs"] == 50 and results["report"]["wall_s"]["median"] > 0
    assert results["report"]["max_rss_mb"]["median"] > 0
    assert "| report.py over 50 runs |" in result.stdout
    for command in ("help", "cfg_job"):
        assert results["startup"][command]["wall_s"]["n"] == 1
        # The requirement: neither needs torch, Lightning or wandb.
        assert results["startup"][command]["imports_torch_lightning_wandb"] == [], results["startup"][command]
    assert results["startup"]["first_step"]["project_s"]["median"] > 0
    assert "| `python train.py --help` |" in result.stdout
    assert results["machine"]["cores"] >= 1 and results["machine"]["torch"]
