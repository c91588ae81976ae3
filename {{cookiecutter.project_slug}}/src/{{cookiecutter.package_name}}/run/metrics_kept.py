"""The metrics a run ends with, kept for run.json: `trainer.test` starts with none of fit's."""

import lightning as L


class MetricsKept(L.Callback):
    """Copies `trainer.callback_metrics` into `metrics` (as floats) when fitting and testing end."""

    def __init__(self, metrics: dict[str, float]) -> None:
        self.metrics = metrics

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._keep(trainer)

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._keep(trainer)

    def _keep(self, trainer: L.Trainer) -> None:
        self.metrics.update({name: float(value) for name, value in trainer.callback_metrics.items()})
