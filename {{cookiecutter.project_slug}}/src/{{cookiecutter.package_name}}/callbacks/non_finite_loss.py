"""Stop training at the first NaN or infinite loss or weight, and say where it happened."""

import math

import lightning as L
import torch


class NonFiniteLossError(RuntimeError):
    pass


class StopOnNonFiniteLoss(L.Callback):
    """Raises at the first training step whose loss is NaN or infinite, and at the end of an
    epoch whose weights (parameters and buffers such as BatchNorm statistics) are not all finite.

    The epoch-end check runs before Lightning writes the epoch's checkpoints, so that `last.ckpt`
    stays the last good one; the run is marked failed in run.json. Checking the loss costs one
    device-to-host copy every `check_every_n_steps` steps; on a GPU, a larger interval saves it.
    """

    def __init__(self, check_every_n_steps: int = 1) -> None:
        if check_every_n_steps < 1:
            raise ValueError(f"check_every_n_steps={check_every_n_steps}: give a whole number >= 1")
        self.every = check_every_n_steps
        self.last_finite: tuple[int, float] | None = None
        self.weights_checked_at_step: int | None = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None or trainer.global_step % self.every:
            return
        value = float(loss.detach())
        # Any rank's NaN stops every rank: one rank raising alone would leave the others waiting.
        if not trainer.strategy.reduce_boolean_decision(not math.isfinite(value), all=False):
            self.last_finite = (trainer.global_step, value)
            return
        before = (
            f"the last finite loss was {self.last_finite[1]:.6g} at step {self.last_finite[0]}"
            if self.last_finite
            else "no finite loss before it"
        )
        raise NonFiniteLossError(
            f"training loss is {value} at step {trainer.global_step} (epoch {trainer.current_epoch}, batch "
            f"{batch_idx}); {before}. Try a lower model.optimizer.lr or trainer.gradient_clip_val=1.0; "
            "debug=anomaly finds the operation"
        )

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning runs checkpoint callbacks after all others: this comes before the save.
        if not trainer.sanity_checking:
            self._check_weights(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check_weights(trainer, pl_module)

    def _check_weights(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.weights_checked_at_step == trainer.global_step:
            return  # no optimizer step since the check at validation end
        self.weights_checked_at_step = trainer.global_step
        state = {name: t for name, t in pl_module.state_dict().items() if t.is_floating_point()}
        # One device-to-host copy for all tensors; names only when something is wrong.
        finite = bool(torch.stack([t.isfinite().all() for t in state.values()]).all()) if state else True
        broken = [] if finite else [name for name, t in state.items() if not t.isfinite().all()]
        if trainer.strategy.reduce_boolean_decision(bool(broken), all=False):
            raise NonFiniteLossError(
                f"weights are not finite at the end of epoch {trainer.current_epoch} ({', '.join(broken[:3])}"
                f"{', ...' if len(broken) > 3 else ''}); this epoch is not checkpointed. Try a lower "
                "model.optimizer.lr or trainer.gradient_clip_val=1.0"
            )
