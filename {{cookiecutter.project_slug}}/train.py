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

from {{ cookiecutter.package_name }}.cli.errors import config_errors_in_one_line, errors_in_one_line  # noqa: E402
from {{ cookiecutter.package_name }}.cli.help import help_requested, print_script_help  # noqa: E402
from {{ cookiecutter.package_name }}.run.directory import register_resolvers  # noqa: E402
from {{ cookiecutter.package_name }}.run.record import RunRecord, completed_sweep_job  # noqa: E402

register_resolvers()


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    with errors_in_one_line():  # HYDRA_FULL_ERROR=1 for the traceback
        earlier = completed_sweep_job()
        if earlier is not None:
            # Re-running a sweep in its old directory finishes what crashed, and repeats nothing else.
            print(f"Skipping {earlier['output_dir']}: completed in an earlier run of this sweep")
            return earlier["metrics"].get(cfg.get("optimized_metric"))
        # Drawn here for seed=null, so that run.json, the manifest and every DDP rank share one seed.
        cfg.seed = draw_seed_if_none(cfg.seed)
        with RunRecord(cfg) as record:  # run.json and manifest/: what ran, on what, from which code
            metrics, details = train(cfg)
            record.complete(metrics, **details)
        # The sweeper (Optuna) optimises the value returned here.
        return metrics.get(cfg.get("optimized_metric"))


def train(cfg: DictConfig) -> tuple[dict[str, float], dict]:
    # Imported here rather than at the top so that `--help` and `--cfg job` need no torch.
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint

    from {{ cookiecutter.package_name }}.cli.value_checks import check_config
    from {{ cookiecutter.package_name }}.launch.ddp_ranks import other_ranks_started
    from {{ cookiecutter.package_name }}.launch.same_config_on_all_ranks import SameConfigOnAllRanks
    from {{ cookiecutter.package_name }}.loggers.config_logging import log_config
    from {{ cookiecutter.package_name }}.loggers.teardown import finish_loggers
    from {{ cookiecutter.package_name }}.models.for_data import model_for_data
    from {{ cookiecutter.package_name }}.run.build import build, build_all, trainer_plugins
    from {{ cookiecutter.package_name }}.run.checkpoints import resume_checkpoint
    from {{ cookiecutter.package_name }}.run.record import training_scale
    from {{ cookiecutter.package_name }}.run.settings import apply_extras

    check_config(cfg)  # a value no run can use stops here, naming its key
    apply_extras(cfg)
    # Resolved first: a missing checkpoint should stop the run before any work is done.
    resume_from = resume_checkpoint(cfg.ckpt_path, cfg.paths.output_dir)
    if cfg.test and not cfg.train and resume_from is None:
        raise ValueError("train=false tests a checkpoint: give ckpt_path=<.ckpt path> (or use eval.py)")
    seed = L.seed_everything(draw_seed_if_none(cfg.seed), workers=True)

    # With trainer=ddp this process is rank 0 and starts the job's other ranks (README: DDP).
    with other_ranks_started(cfg, seed=seed, ckpt_path=resume_from):
        datamodule = build(cfg, "data")
        model = model_for_data(cfg.model, datamodule)  # input shape and task come from the data
        trainer = build(
            cfg,
            "trainer",
            callbacks=[*build_all(cfg, "callbacks"), SameConfigOnAllRanks(cfg, seed)],
            logger=build_all(cfg, "logger") or False,
            # Atomic checkpoint writes; under SLURM, submitit alone requeues (README).
            plugins=trainer_plugins(cfg.trainer.get("plugins")),
        )
        log_config(trainer.loggers, cfg)

        metrics: dict[str, float] = {}
        try:
            if cfg.train:
                trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from)
                metrics.update(_as_floats(trainer.callback_metrics))
            best = next(
                (c.best_model_path for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)),
                "",
            )
            if cfg.test:
                # The best checkpoint, not the last epoch; without one (fast_dev_run) the current weights.
                trainer.test(model, datamodule=datamodule, ckpt_path=best or resume_from)
                metrics.update(_as_floats(trainer.callback_metrics))
        finally:
            finish_loggers()
    return metrics, {"seed": seed, "best_checkpoint": best or None, **training_scale(trainer, datamodule)}


def draw_seed_if_none(seed: int | None) -> int:
    """`seed=null` means a fresh random seed, recorded in run.json like any other (0 is a seed too).

    The ranks of a SLURM job draw it from the job's id: they must agree, also after a requeue.
    """
    import random

    if seed is not None:
        return seed
    if int(os.environ.get("SLURM_NTASKS", 1)) > 1:
        return random.Random(os.environ["SLURM_JOB_ID"]).randrange(2**31)
    return random.SystemRandom().randrange(2**31)


def _as_floats(metrics) -> dict[str, float]:
    return {name: float(value) for name, value in metrics.items()}


if __name__ == "__main__":
    if help_requested():  # groups listed from configs/: 0.2 s, where Hydra's --help takes seconds
        print_script_help(__doc__)
    else:
        with config_errors_in_one_line():
            main()
