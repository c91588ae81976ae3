"""The visualisation callbacks write their figures and statistics, and send them to the loggers."""

import csv
import json

from conftest import run_script


def test_visualise_writes_figures_per_class_scores_and_training_statistics(tmp_path):
    run_dir = tmp_path / "run"
    run_script(
        "train.py",
        "callbacks=[default,visualise]",
        "callbacks.training_stats.every_n_steps=5",
        "logger=[csv,tensorboard,wandb,mlflow]",
        "trainer.max_epochs=2",
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={tmp_path}",
    )
    assert (run_dir / "confusion_matrix.png").stat().st_size > 0
    assert (run_dir / "predictions.png").stat().st_size > 0
    with (run_dir / "per_class.csv").open() as file:
        rows = list(csv.DictReader(file))
    # Every class, and every test sample counted once (270 in the digits test split).
    assert [row["class"] for row in rows] == [str(i) for i in range(10)]
    assert sum(int(row["support"]) for row in rows) == 270
    recall = sum(float(row["recall"]) * int(row["support"]) for row in rows) / 270
    assert abs(recall - json.loads((run_dir / "run.json").read_text())["metrics"]["test/acc"]) < 1e-3

    columns = (run_dir / "csv" / "version_0" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "grad_2.0_norm_total" in columns
    assert any(column.startswith("activation_std/") for column in columns)
    assert any(column.startswith("weight_norm/") for column in columns)

    # The same figures in the loggers that show images.
    assert list(run_dir.glob("wandb/offline-run-*/files/media/images/test/confusion_matrix*.png"))
    assert list((tmp_path / "mlflow_artifacts").rglob("confusion_matrix.png"))
    assert list(run_dir.glob("tensorboard/**/events.out.tfevents.*"))
