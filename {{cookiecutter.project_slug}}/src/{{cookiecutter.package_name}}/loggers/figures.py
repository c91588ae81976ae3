"""A matplotlib figure saved in the run directory and sent to every logger that shows images."""

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def pyplot():
    """matplotlib.pyplot drawing off screen (runs have no display), imported only when a figure
    is made, so that runs without one never pay for matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def publish_figure(figure, path: Path, key: str, loggers: list, step: int = 0) -> None:
    """PNG at `path`; a W&B image, a TensorBoard figure, an MLflow artifact under `key`. Closes
    the figure."""
    import matplotlib.pyplot as plt
    from lightning.pytorch.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=[str(path)], step=step)
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_figure(key, figure, global_step=step, close=False)
        elif isinstance(logger, MLFlowLogger):
            logger.experiment.log_artifact(logger.run_id, str(path))
    plt.close(figure)
    log.info(f"{key}: {path}")
