"""Numbers for diagnosing vanishing or exploding gradients: gradient, weight and activation
statistics, logged every few steps."""

import lightning as L
import torch
from lightning.pytorch.utilities import grad_norm
from torch import nn
from torchmetrics import Metric


class TrainingStats(L.Callback):
    """Every `every_n_steps` training steps, logs to the active loggers:

    - `grad_2.0_norm/<parameter>` and `grad_2.0_norm_total` (Lightning's names): L2 norms of the
      gradients before the step (vanishing: near 0 in early layers; exploding: large or growing);
    - `weight_norm/<parameter>`: L2 norms of the weights;
    - `activation_mean/<layer>`, `activation_std/<layer>`: of each leaf layer's output (dead
      ReLUs: std 0; saturation: values pinned at the ends of the range).

    Only on those steps are hooks attached; in between it costs nothing.
    """

    def __init__(self, every_n_steps: int = 50) -> None:
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps={every_n_steps}: give a whole number >= 1")
        self.every = every_n_steps
        self.hooks: list = []
        self.activations: dict[str, torch.Tensor] = {}

    def _due(self, trainer: L.Trainer) -> bool:
        return trainer.global_step % self.every == 0

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int
    ) -> None:
        if not self._due(trainer):
            return
        # The network's layers only: not the loss function or the metrics the module also holds.
        network = getattr(pl_module, "net", pl_module)
        for name, module in network.named_modules():
            if name and not list(module.children()) and not isinstance(module, (nn.Dropout, Metric)):
                self.hooks.append(module.register_forward_hook(self._recorder(name)))

    def _recorder(self, name: str):
        def record(module: nn.Module, inputs, output) -> None:
            if isinstance(output, torch.Tensor) and output.is_floating_point() and output.numel() > 1:
                detached = output.detach().float()
                self.activations[f"activation_mean/{name}"] = detached.mean()
                self.activations[f"activation_std/{name}"] = detached.std()

        return record

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer) -> None:
        if not self._due(trainer):
            return
        self._remove_hooks()
        stats = {**grad_norm(pl_module, norm_type=2), **self.activations}
        stats.update(
            {
                f"weight_norm/{name}": p.detach().norm()
                for name, p in pl_module.named_parameters()
                if p.requires_grad
            }
        )
        self.activations = {}
        pl_module.log_dict(stats, on_step=True, on_epoch=False)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._remove_hooks()  # when no optimizer step came (gradient accumulation)

    def _remove_hooks(self) -> None:
        for hook in self.hooks:
            hook.remove()
        self.hooks = []
