"""Lightning's learning-rate finder, with its plot and suggestion kept in the run directory."""

import logging
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.callbacks import LearningRateFinder

from ..loggers.figures import pyplot

log = logging.getLogger(__name__)
# Lightning's suggestion skips as many steps at the start.
SKIP_BEGIN = 10


class FindLearningRate(LearningRateFinder):
    """At the start of fit: raises the learning rate step by step on a few batches, records the
    loss, and suggests the rate where the loss falls fastest.

    The plot (loss against learning rate, the suggestion marked) is saved as `plot_path`. With
    `apply=true` the run then trains with the suggestion; otherwise with the configured rate.
    """

    def __init__(self, plot_path: str, apply: bool = False, **finder_options) -> None:
        super().__init__(update_attr=False, **finder_options)
        self.plot_path = Path(plot_path)
        self.apply = apply

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.lr_find(trainer, pl_module)
        if not self.optimal_lr:
            return  # fast_dev_run: Lightning skips the search
        lrs, losses = self._curve()
        suggestion = steepest_descent(lrs, losses)
        if trainer.is_global_zero:
            self._save_plot(lrs, losses, suggestion)
        if suggestion is None:
            log.warning("Learning-rate finder: no suggestion (the loss never fell); see the plot")
            return
        log.info(
            f"Learning-rate finder: suggested lr {suggestion:.3g}, plot in {self.plot_path}; "
            f"{'training with it now' if self.apply else f'use it with model.optimizer.lr={suggestion:.3g}'}"
        )
        if self.apply:
            self._train_with(trainer, suggestion)

    def _curve(self) -> tuple[np.ndarray, np.ndarray]:
        # The first steps are left out, as Lightning's own suggestion does: its running average of
        # the loss is biased low there, which would draw a rise that is not in the data.
        lrs = np.asarray(self.optimal_lr.results["lr"][SKIP_BEGIN:-1])
        losses = np.asarray(self.optimal_lr.results["loss"][SKIP_BEGIN:-1])
        finite = np.isfinite(losses)
        return lrs[finite], losses[finite]

    def _save_plot(self, lrs: np.ndarray, losses: np.ndarray, suggestion: float | None) -> None:
        plt = pyplot()

        figure, axes = plt.subplots(figsize=(6, 4))
        axes.plot(lrs, losses)
        if suggestion is not None:
            axes.axvline(suggestion, color="red", linestyle="--", label=f"suggested lr {suggestion:.3g}")
            axes.legend()
        axes.set(xscale="log", xlabel="learning rate", ylabel="training loss (running average)")
        self.plot_path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(self.plot_path, dpi=120, bbox_inches="tight")
        plt.close(figure)

    @staticmethod
    def _train_with(trainer: L.Trainer, lr: float) -> None:
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"] = lr
        # Schedulers compute their rates from these.
        for config in trainer.lr_scheduler_configs:
            if hasattr(config.scheduler, "base_lrs"):  # ReduceLROnPlateau has none
                config.scheduler.base_lrs = [lr for _ in config.scheduler.base_lrs]


def steepest_descent(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """The rate where the loss falls fastest per decade of learning rate (Lightning's own
    suggestion differentiates with respect to the rate itself, which favours the smallest rates)."""
    if len(losses) < 3:
        return None
    slopes = np.gradient(losses, np.log10(lrs))
    return float(lrs[int(np.argmin(slopes))]) if slopes.min() < 0 else None
