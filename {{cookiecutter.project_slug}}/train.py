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
from {{ cookiecutter.package_name }}.cli.hydra_versions import hydra_main_settings  # noqa: E402
from {{ cookiecutter.package_name }}.cli.pasted_paths import quote_pasted_paths  # noqa: E402
from {{ cookiecutter.package_name }}.run.context import Run  # noqa: E402
from {{ cookiecutter.package_name }}.run.directory import register_resolvers  # noqa: E402

register_resolvers()


# version_base="1.3" on Hydra 1.3; on 1.4 the `_target_`s it may build (run/trusted_targets.py).
@hydra.main(config_path="configs", config_name="train", **hydra_main_settings())
def main(cfg: DictConfig) -> float | None:
    with errors_in_one_line():  # HYDRA_FULL_ERROR=1 for the traceback
        # The sweeper (Optuna) maximises the value returned here: `optimized_metric`.
        return train(cfg).objective


def train(cfg: DictConfig) -> Run:
    # Imported here rather than at the top so that `--help` and `--cfg job` need no torch.
    import lightning as L

    from {{ cookiecutter.package_name }}.models.for_data import model_for_data
    from {{ cookiecutter.package_name }}.run.build import build

    # run.json, manifest/, resuming, DDP ranks, loggers: everything that is not the method.
    with Run(cfg) as run:
        if run.completed_earlier:  # a sweep re-run in its old directory repeats nothing that finished
            return run
        L.seed_everything(run.seed, workers=True)
        datamodule = build(cfg, "data")
        model = model_for_data(cfg.model, datamodule)  # input shape and task come from the data
        trainer = run.trainer()
        if cfg.train:
            trainer.fit(model, datamodule=datamodule, ckpt_path=run.checkpoint)
        if cfg.test and not run.pruned:  # a search stopped it: not a model worth testing
            # The best epoch's checkpoint; without one (fast_dev_run) the current weights.
            trainer.test(model, datamodule=datamodule, ckpt_path=run.best_checkpoint())
        run.complete()
    return run


if __name__ == "__main__":
    if help_requested():  # groups listed from configs/: 0.2 s, where Hydra's --help takes seconds
        print_script_help(__doc__)
    else:
        quote_pasted_paths()  # a sweep job's path, `model=linear,seed=1/` and all, as printed
        with config_errors_in_one_line():
            main()
