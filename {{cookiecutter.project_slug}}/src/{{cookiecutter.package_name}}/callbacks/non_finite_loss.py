"""Stop training at the first NaN or infinite loss or weight, and say where it happened."""

import lightning as L
import torch


class NonFiniteLossError(RuntimeError):
    pass


class StopOnNonFiniteLoss(L.Callback):
    """Raises at the first check after a training step whose loss is NaN or infinite, naming that
    step, and at the end of an epoch whose weights (parameters and buffers such as BatchNorm
    statistics) are not all finite.

    Each step only updates, on the device, the first non-finite step and the last finite loss:
    reading a device value at every step would make the host wait for the GPU at every step. They
    are read every `check_every_n_steps` steps (configs: the logging interval) and at each epoch's
    end, before Lightning writes the epoch's checkpoints, so that `last.ckpt` stays the last good
    one; the run is marked failed in run.json.
    """

    def __init__(self, check_every_n_steps: int = 1) -> None:
        if check_every_n_steps < 1:
            raise ValueError(f"check_every_n_steps={check_every_n_steps}: give a whole number >= 1")
        self.every = check_every_n_steps
        # On the loss's device: (global step, epoch, batch) of the first non-finite loss (-1: none
        # yet), and the step and value of the last finite one.
        self.first_bad: torch.Tensor | None = None
        self.last_finite: torch.Tensor | None = None
        self.weights_checked_at_step: int | None = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        self._track(loss.detach(), trainer.global_step, trainer.current_epoch, batch_idx)
        if trainer.global_step % self.every == 0:
            self._check_loss(trainer)

    def _track(self, loss: torch.Tensor, step: int, epoch: int, batch: int) -> None:
        if self.first_bad is None:
            self.first_bad = torch.full((3,), -1, dtype=torch.long, device=loss.device)
            self.last_finite = torch.full((2,), float("nan"), dtype=torch.float64, device=loss.device)
        finite = torch.isfinite(loss)
        # Python numbers go to the kernels as arguments: no copy to the device, no wait.
        first = ~finite & (self.first_bad[0] < 0)
        self.first_bad = torch.stack(
            [
                torch.where(first, value, old)
                for value, old in zip((step, epoch, batch), self.first_bad, strict=True)
            ]
        )
        keep = finite & (self.first_bad[0] < 0)
        self.last_finite = torch.stack(
            [
                torch.where(keep, float(step), self.last_finite[0]),
                torch.where(keep, loss.double(), self.last_finite[1]),
            ]
        )

    def _check_loss(self, trainer: L.Trainer) -> None:
        if self.first_bad is None:
            return
        step, epoch, batch = self.first_bad.tolist()  # the read, once every check_every_n_steps steps
        # Any rank's NaN stops every rank: one rank raising alone would leave the others waiting.
        if not trainer.strategy.reduce_boolean_decision(step >= 0, all=False):
            return
        if step < 0:
            raise NonFiniteLossError("training loss is not finite on another rank; see its log")
        last_step, last_value = self.last_finite.tolist()
        before = (
            f"the last finite loss was {last_value:.6g} at step {int(last_step)}"
            if last_value == last_value  # not NaN: there was one
            else "no finite loss before it"
        )
        raise NonFiniteLossError(
            f"training loss is not finite at step {step} (epoch {epoch}, batch {batch}); {before}. "
            "Try a lower model.optimizer.lr or trainer.gradient_clip_val=1.0; debug=anomaly finds the "
            "operation"
        )

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning runs checkpoint callbacks after all others: this comes before the save.
        if not trainer.sanity_checking:
            self._check_loss(trainer)
            self._check_weights(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check_loss(trainer)
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
