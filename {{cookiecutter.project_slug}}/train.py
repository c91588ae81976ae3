"""Train a model: seed → data → model → trainer → fit → test → record.

python train.py                                # the baseline in configs/train.yaml
python train.py model=cnn trainer.max_epochs=5 # any config value
python train.py -m seed=1,2,3 model=linear,mlp # a sweep, one run directory per job
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

os.environ["PROJECT_ROOT"] = str(Path(__file__).resolve().parent)

from {{ cookiecutter.package_name }}.runtime.run_dir import register_resolvers  # noqa: E402
from {{ cookiecutter.package_name }}.runtime.run_record import RunRecord, completed_sweep_job  # noqa: E402

register_resolvers()


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    earlier = completed_sweep_job()
    if earlier is not None:
        # Re-running a sweep in its old directory finishes what crashed, and repeats nothing else.
        print(f"Skipping {earlier['output_dir']}: completed in an earlier run of this sweep")
        return earlier["metrics"].get(cfg.get("optimized_metric"))
    with RunRecord(cfg) as record:
        metrics, best_checkpoint = train(cfg)
        record.complete(metrics, best_checkpoint=best_checkpoint)
    # The sweeper (Optuna) optimises the value returned here.
    return metrics.get(cfg.get("optimized_metric"))


def train(cfg: DictConfig) -> tuple[dict[str, float], str | None]:
    # Imported here rather than at the top so that `--help` and `--cfg job` need no torch.
    import lightning as L
    from hydra.utils import instantiate

    from {{ cookiecutter.package_name }}.loggers.config_logging import log_config
    from {{ cookiecutter.package_name }}.runtime.checkpoints import resume_checkpoint
    from {{ cookiecutter.package_name }}.runtime.extras import apply_extras
    from {{ cookiecutter.package_name }}.runtime.instantiate import finish_loggers, instantiate_all

    apply_extras(cfg)
    # Resolved first: a missing checkpoint should stop the run before any work is done.
    resume_from = resume_checkpoint(cfg.ckpt_path, cfg.paths.output_dir)
    L.seed_everything(cfg.seed, workers=True)

    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model, input_shape=datamodule.input_shape, num_classes=datamodule.num_classes)
    trainer = instantiate(
        cfg.trainer,
        callbacks=instantiate_all(cfg.get("callbacks")),
        logger=instantiate_all(cfg.get("logger")) or False,
    )
    log_config(trainer.loggers, cfg)

    metrics: dict[str, float] = {}
    try:
        if cfg.train:
            trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from)
            metrics.update(_as_floats(trainer.callback_metrics))
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if cfg.test:
            # Test the best checkpoint, not the last epoch; without one (fast_dev_run) the current weights.
            trainer.test(model, datamodule=datamodule, ckpt_path=best or None)
            metrics.update(_as_floats(trainer.callback_metrics))
    finally:
        finish_loggers()
    return metrics, best or None


def _as_floats(metrics) -> dict[str, float]:
    return {name: float(value) for name, value in metrics.items()}


if __name__ == "__main__":
    main()
