"""Evaluate a checkpoint on the test split.

    python eval.py ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt
    python eval.py ckpt_path=logs/train/multiruns/<date>/model=linear,seed=1   # a run's best epoch

The task, network and data are rebuilt from the training run's own config (saved beside the
checkpoint in `<run>/.hydra/config.yaml`), so `model=...` need not be repeated; `use_train_config=false`
uses the `task`, `model` and `data` composed here instead. run.json records the training run's
choices and the checkpoint evaluated.
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
from {{ cookiecutter.package_name }}.run.context import EvaluationRun  # noqa: E402
from {{ cookiecutter.package_name }}.run.directory import register_resolvers  # noqa: E402

register_resolvers()


# version_base="1.3" on Hydra 1.3; on 1.4 the `_target_`s it may build (run/trusted_targets.py).
@hydra.main(config_path="configs", config_name="eval", **hydra_main_settings())
def main(cfg: DictConfig) -> None:
    with errors_in_one_line():  # HYDRA_FULL_ERROR=1 for the traceback
        evaluate(cfg)


def evaluate(cfg: DictConfig) -> EvaluationRun:
    import lightning as L

    from {{ cookiecutter.package_name }}.models.for_data import model_for_data
    from {{ cookiecutter.package_name }}.run.build import build

    # As train.py's Run; task, model and data configs become those of the checkpoint's training run.
    with EvaluationRun(cfg) as run:
        L.seed_everything(run.seed, workers=True)
        datamodule = build(cfg, "data")
        model = model_for_data(cfg.model, datamodule)
        trainer = run.trainer()
        trainer.test(model, datamodule=datamodule, ckpt_path=run.checkpoint)
        run.complete()
    return run


if __name__ == "__main__":
    if help_requested():  # groups listed from configs/: 0.2 s, where Hydra's --help takes seconds
        print_script_help(__doc__)
    else:
        quote_pasted_paths()  # a sweep job's path, `model=linear,seed=1/` and all, as printed
        with config_errors_in_one_line():
            main()
