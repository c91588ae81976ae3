"""`debug=overfit` ends with a verdict: did the model learn the few batches it saw again and again?"""

import logging

import lightning as L

# On the console and in the run's log.
log = logging.getLogger(__name__)


class OverfitVerdict(L.Callback):
    """At the end of training, the training batches' value of the task's `monitor` (`val/acc`:
    `train/acc`) against `threshold`, in one line.

    A network that cannot fit 3 batches by heart will not learn the data set either: below the
    threshold, look at the learning rate, the loss and the labels before anything else.
    """

    def __init__(self, monitor: str, threshold: float) -> None:
        self.metric = f"train/{monitor.split('/', 1)[-1]}"
        self.threshold = threshold

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        value = trainer.callback_metrics.get(self.metric)
        if value is None:
            log.warning(f"overfit: no {self.metric} was logged, so there is no verdict")
            return
        value = float(value)
        batches = trainer.overfit_batches
        if value >= self.threshold:
            sign, verdict = ">=", "it can learn them"
        else:
            sign, verdict = "<", "it could not learn them: check the learning rate, the loss and the labels"
        log.info(
            f"overfit: {self.metric} {value:.4f} on {batches} batches ({sign} {self.threshold}): {verdict}"
        )
