"""Stop training at the first NaN or infinite loss or weight, and say where it happened."""

import lightning as L
import torch


class NonFiniteLossError(RuntimeError):
    pass


class StopOnNonFiniteLoss(L.Callback):
    """Raises at the first check after a training step whose loss is NaN or infinite, naming that
    step, and at the end of an epoch whose weights (parameters and buffers such as BatchNorm
    statistics) are not all finite.

    Each step only copies its loss into a buffer on the loss's device: reading a device value at
    every step would make the host wait for the GPU at every step. The buffer is read every
    `check_every_n_steps` steps (configs: the logging interval) and at each epoch's end, before
    Lightning writes the epoch's checkpoints, so that `last.ckpt` stays the last good one; the
    run is marked failed in run.json.
    """

    def __init__(self, check_every_n_steps: int = 1) -> None:
        if check_every_n_steps < 1:
            raise ValueError(f"check_every_n_steps={check_every_n_steps}: give a whole number >= 1")
        self.every = check_every_n_steps
        # The batches since the last check, as (optimizer step, epoch, batch) on the host, and
        # their losses on the device, `losses[i]` of `window[i]`; then the window's last batch and
        # loss, in case the next window's first loss is the non-finite one.
        self.window: list[tuple[int, int, int]] = []
        self.losses: torch.Tensor | None = None
        self.before_window: tuple[tuple[int, int, int], torch.Tensor] | None = None
        self.steps_before_batch = 0
        self.weights_checked_at_step: int | None = None

    def on_train_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int) -> None:
        self.steps_before_batch = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        self._keep(loss.detach())
        # Named by the optimizer step it counts towards: with accumulate_grad_batches=k, k batches
        # share one, and only the last of them steps (and may be checked).
        self.window.append((self.steps_before_batch + 1, trainer.current_epoch, batch_idx))
        stepped = trainer.global_step > self.steps_before_batch
        if stepped and trainer.global_step % self.every == 0:
            self._check_loss(trainer)

    def _keep(self, loss: torch.Tensor) -> None:
        """One copy on the device a step; the buffer grows (rarely) when a window outlasts it."""
        kept = len(self.window)
        if self.losses is None:
            # At least float32: a float16 buffer would turn a large finite float32 loss into inf.
            dtype = torch.promote_types(loss.dtype, torch.float32)
            # Capped: check_every_n_steps may be huge (logging switched off), the buffer grows.
            self.losses = torch.empty(min(self.every, 1024), dtype=dtype, device=loss.device)
        elif kept == len(self.losses):
            grown = self.losses.new_empty(2 * kept)
            grown[:kept] = self.losses[:kept]
            self.losses = grown
        self.losses[kept] = loss

    def _check_loss(self, trainer: L.Trainer) -> None:
        kept = len(self.window)
        if not kept:
            return
        losses = self.losses[:kept]
        positions = torch.arange(kept, device=losses.device)
        # The read, once every check_every_n_steps steps: the first non-finite loss, or `kept`.
        first_bad = int(torch.where(torch.isfinite(losses), kept, positions).min())
        # Any rank's NaN stops every rank: one rank raising alone would leave the others waiting.
        if not trainer.strategy.reduce_boolean_decision(first_bad < kept, all=False):
            self.before_window = (self.window[-1], losses[-1].clone())
            self.window = []
            return
        if first_bad == kept:
            raise NonFiniteLossError("training loss is not finite on another rank; see its log")
        step, epoch, batch = self.window[first_bad]
        last = (self.window[first_bad - 1], losses[first_bad - 1]) if first_bad else self.before_window
        # Lightning hands over the loss divided by accumulate_grad_batches: the one it backpropagates.
        before = (
            f"the last finite loss was {float(last[1]) * trainer.accumulate_grad_batches:.6g} "
            f"at step {last[0][0]}"
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
