"""No training or validation step of the project waits for the device: every model config, with
the default callbacks and logger, makes no device-to-host read inside a step (tests/host_syncs.py).

Reads at the log interval and at an epoch's end (metrics computed, NaN flags checked, checkpoints)
are outside the steps and allowed; Lightning's own reads are listed in the README."""

import pytest
from conftest import config_options
from host_syncs import HostSyncAudit
from omegaconf import open_dict

from {{ cookiecutter.package_name }}.run import trusted_targets
from train import train

MODELS = [[f"model={model}"] for model in config_options("model") if model != "majority"]
# Regression: its loss, R², MAE and MSE, on a table's numeric column.
REGRESSION = [
    "data=csv",
    "data.path=examples/wine.csv",
    "data.target=hue",
    "task=regression",
    "data.batch_size=8",
]


@pytest.mark.parametrize("choices", [*MODELS, REGRESSION], ids=lambda choices: " ".join(choices))
def test_no_step_reads_a_device_value_on_the_host(make_config, choices, monkeypatch):
    # The audit is a callback from this folder: Hydra 1.4 builds it only if it is trusted, as any
    # target from outside the project (run/trusted_targets.py).
    trusted = (*trusted_targets.TRUSTED_TARGETS, "host_syncs.*")
    monkeypatch.setattr(trusted_targets, "TRUSTED_TARGETS", trusted)
    cfg = make_config(
        *choices,
        "trainer.max_epochs=2",
        "+trainer.limit_train_batches=6",
        "+trainer.limit_val_batches=3",
        "trainer.log_every_n_steps=2",
        "test=false",
    )
    with open_dict(cfg):
        cfg.callbacks.host_sync_audit = {"_target_": "host_syncs.HostSyncAudit"}
    HostSyncAudit.made.clear()
    assert train(cfg).metrics
    (audit,) = HostSyncAudit.made
    assert audit.steps == {"train": 12, "val": 6}
    reads = [f"{count} x {what} at {site}" for (what, site), count in sorted(audit.reads.project.items())]
    assert reads == [], "host reads per step caused by the project:\n" + "\n".join(reads)
    # At the log interval (every 2nd of 12 steps) the NaN check reads its flag: once, no more.
    assert sum(audit.reads.at_log_interval.values()) <= 6, audit.reads.at_log_interval
