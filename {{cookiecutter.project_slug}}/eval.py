"""Evaluate a checkpoint on the test split.

    python eval.py ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt

The network and data are rebuilt from the training run's own config (saved beside the checkpoint
in `<run>/.hydra/config.yaml`), so `model=...` need not be repeated; `use_train_config=false`
uses the `model` and `data` composed here instead.
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig, open_dict

os.environ["PROJECT_ROOT"] = str(Path(__file__).resolve().parent)

from {{ cookiecutter.package_name }}.cli.errors import config_errors_in_one_line, errors_in_one_line  # noqa: E402
from {{ cookiecutter.package_name }}.cli.help import help_requested, print_script_help  # noqa: E402
from {{ cookiecutter.package_name }}.run.directory import register_resolvers  # noqa: E402
from {{ cookiecutter.package_name }}.run.record import RunRecord  # noqa: E402

register_resolvers()


@hydra.main(version_base="1.3", config_path="configs", config_name="eval")
def main(cfg: DictConfig) -> None:
    with errors_in_one_line(), RunRecord(cfg) as record:  # HYDRA_FULL_ERROR=1 for the traceback
        metrics, details = evaluate(cfg)
        record.complete(metrics, **details)


def evaluate(cfg: DictConfig) -> tuple[dict[str, float], dict]:
    import lightning as L

    from {{ cookiecutter.package_name }}.cli.value_checks import check_config
    from {{ cookiecutter.package_name }}.launch.ddp_ranks import other_ranks_started
    from {{ cookiecutter.package_name }}.loggers.teardown import finish_loggers
    from {{ cookiecutter.package_name }}.models.for_data import model_for_data
    from {{ cookiecutter.package_name }}.run.build import build, build_all
    from {{ cookiecutter.package_name }}.run.checkpoints import existing_checkpoint, training_config
    from {{ cookiecutter.package_name }}.run.record import training_scale
    from {{ cookiecutter.package_name }}.run.settings import apply_extras

    checkpoint = existing_checkpoint(cfg.ckpt_path)
    train_cfg = training_config(checkpoint) if cfg.use_train_config else None
    if train_cfg is not None:
        print(f"Using model and data config of the training run in {checkpoint.parent.parent}")
        with open_dict(cfg):
            cfg.model, cfg.data = train_cfg.model, train_cfg.data
    check_config(cfg)
    apply_extras(cfg)
    L.seed_everything(cfg.seed, workers=True)

    # With trainer=ddp this process is rank 0 and starts the job's other ranks (README: DDP).
    with other_ranks_started(cfg):
        datamodule = build(cfg, "data")
        model = model_for_data(cfg.model, datamodule)  # input shape and task come from the data
        trainer = build(
            cfg,
            "trainer",
            callbacks=build_all(cfg, "callbacks"),
            logger=build_all(cfg, "logger") or False,
        )
        try:
            trainer.test(model, datamodule=datamodule, ckpt_path=str(checkpoint))
        finally:
            finish_loggers()
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    return metrics, training_scale(trainer, datamodule)


if __name__ == "__main__":
    if help_requested():  # groups listed from configs/: 0.2 s, where Hydra's --help takes seconds
        print_script_help(__doc__)
    else:
        with config_errors_in_one_line():
            main()
