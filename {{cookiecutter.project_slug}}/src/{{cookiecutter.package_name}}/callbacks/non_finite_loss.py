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

    NONE = 2**62  # "no non-finite loss yet", as an index larger than any window

    def __init__(self, check_every_n_steps: int = 1) -> None:
        if check_every_n_steps < 1:
            raise ValueError(f"check_every_n_steps={check_every_n_steps}: give a whole number >= 1")
        self.every = check_every_n_steps
        # The steps since the last check, as (global step, epoch, batch), on the host; on the
        # device, the index into them of the first non-finite loss (NONE: none yet) and the last
        # loss before it, which is the last finite one.
        self.window: list[tuple[int, int, int]] = []
        self.before_window: tuple[int, int, int] | None = None
        self.first_bad: torch.Tensor | None = None
        self.last_finite: torch.Tensor | None = None
        self.weights_checked_at_step: int | None = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        self._track(loss.detach())
        self.window.append((trainer.global_step, trainer.current_epoch, batch_idx))
        if trainer.global_step % self.every == 0:
            self._check_loss(trainer)

    def _track(self, loss: torch.Tensor) -> None:
        """Four small kernels a step, with Python numbers as their arguments: no copy, no wait."""
        if self.first_bad is None:
            self.first_bad = torch.full((), self.NONE, dtype=torch.long, device=loss.device)
            self.last_finite = torch.full((), float("nan"), dtype=loss.dtype, device=loss.device)
        finite = torch.isfinite(loss)
        self.first_bad = torch.minimum(self.first_bad, torch.where(finite, self.NONE, len(self.window)))
        self.last_finite = torch.where(self.first_bad == self.NONE, loss, self.last_finite)

    def _check_loss(self, trainer: L.Trainer) -> None:
        if self.first_bad is None:
            return
        first_bad = int(self.first_bad)  # the read, once every check_every_n_steps steps
        # Any rank's NaN stops every rank: one rank raising alone would leave the others waiting.
        if not trainer.strategy.reduce_boolean_decision(first_bad != self.NONE, all=False):
            self.before_window = self.window[-1] if self.window else self.before_window
            self.window = []
            self.first_bad = torch.full_like(self.first_bad, self.NONE)
            return
        if first_bad == self.NONE:
            raise NonFiniteLossError("training loss is not finite on another rank; see its log")
        step, epoch, batch = self.window[first_bad]
        last = self.window[first_bad - 1] if first_bad > 0 else self.before_window
        last_value = float(self.last_finite)
        before = (
            f"the last finite loss was {last_value:.6g} at step {last[0]}"
            if last is not None
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
