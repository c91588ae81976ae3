"""API keys come from the environment or a git-ignored .env and end up in no file a run writes."""

import os
import subprocess
import sys

from conftest import ROOT, copy_of_project, python_path

FROM_ENVIRONMENT = "wandb-key-0123456789abcdef-planted-in-the-environment"
FROM_DOTENV = "mlflow-token-fedcba9876543210-planted-in-dotenv"


def test_planted_keys_are_in_no_file_a_run_writes(tmp_path):
    project = copy_of_project(tmp_path / "project")
    (project / ".env").write_text(f"MLFLOW_TRACKING_TOKEN={FROM_DOTENV}\n")
    outputs = tmp_path / "logs"
    result = subprocess.run(
        [
            sys.executable,
            "train.py",
            "debug=limit",
            "logger=[csv,tensorboard,wandb,mlflow]",
            "extras.print_config=true",
            f"paths.log_dir={outputs}",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        # Offline: with a key W&B would otherwise try to reach its server.
        env={
            **os.environ,
            "WANDB_API_KEY": FROM_ENVIRONMENT,
            "WANDB_MODE": "offline",
            "PYTHONPATH": python_path(ROOT / "src"),
        },
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    written = [path for path in outputs.rglob("*") if path.is_file()]
    # The run wrote its usual files: config, manifest, checkpoints, every logger's output.
    names = {path.name for path in written}
    assert {"run.json", "config.yaml", "manifest.json", "last.ckpt", "metrics.csv", "mlflow.db"} <= names
    assert any(path.match("wandb/offline-run-*/*") or "offline-run-" in str(path) for path in written)
    for secret in (FROM_ENVIRONMENT, FROM_DOTENV):
        leaks = [str(path) for path in written if secret.encode() in path.read_bytes()]
        assert not leaks, f"a planted key was written to {leaks}"
    assert FROM_ENVIRONMENT not in result.stdout + result.stderr
