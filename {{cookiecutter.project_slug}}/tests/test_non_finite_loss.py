"""StopOnNonFiniteLoss names the first non-finite loss and the last finite one, read on the host
only at its checks (callbacks/non_finite_loss.py), in a real Trainer."""

import math

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from {{ cookiecutter.package_name }}.callbacks.non_finite_loss import NonFiniteLossError, StopOnNonFiniteLoss


class LossesInTurn(L.LightningModule):
    """Its training loss at global step s is `losses[s]`, times a weight that keeps a gradient."""

    def __init__(self, losses: list[float]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(()))
        self.losses = torch.tensor(losses)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self.losses[self.global_step] * self.weight

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def fit(
    losses: list[float],
    check_every_n_steps: int,
    batches_per_epoch: int = 4,
    accumulate: int = 1,
    callback: StopOnNonFiniteLoss | None = None,
) -> None:
    data = DataLoader(TensorDataset(torch.zeros(batches_per_epoch, 1)), batch_size=1)
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=math.ceil(len(losses) * accumulate / batches_per_epoch),
        accumulate_grad_batches=accumulate,
        callbacks=[callback or StopOnNonFiniteLoss(check_every_n_steps)],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(LossesInTurn(losses), data)


@pytest.mark.parametrize("check_every_n_steps", [1, 3, 100])
def test_the_first_non_finite_loss_is_named_with_the_last_finite_one(check_every_n_steps):
    # Steps are counted after the optimizer step: the loss of global step s is reported at s + 1.
    losses = [1.0, 2.0, 3.0, 4.0, 5.0, float("nan"), float("inf"), 8.0]
    with pytest.raises(NonFiniteLossError) as error:
        fit(losses, check_every_n_steps)
    message = str(error.value)
    assert message.startswith(
        "training loss is not finite at step 6 (epoch 1, batch 1); the last finite loss was 5 at step 5"
    ), message


def test_with_gradient_accumulation_a_batch_is_named_by_the_step_it_counts_towards():
    # Three batches a step: batches 0-2 feed step 1, batches 3-5 step 2, whose loss is NaN. The
    # check after step 2 holds six losses, more than the buffer first holds (two), so it grew
    # twice, keeping what it held. Lightning hands callbacks each loss divided by 3.
    losses = [1.0, float("nan"), 3.0, 4.0]
    with pytest.raises(NonFiniteLossError) as error:
        fit(losses, check_every_n_steps=2, batches_per_epoch=12, accumulate=3)
    assert str(error.value).startswith(
        "training loss is not finite at step 2 (epoch 0, batch 3); the last finite loss was 1 at step 1"
    ), str(error.value)


def test_with_gradient_accumulation_the_loss_is_read_once_per_check_interval():
    callback = StopOnNonFiniteLoss(check_every_n_steps=2)
    reads = []
    check = callback._check_loss
    callback._check_loss = lambda trainer: reads.append(trainer.global_step) or check(trainer)
    fit([1.0] * 4, check_every_n_steps=2, batches_per_epoch=12, accumulate=3, callback=callback)
    # After optimizer steps 2 and 4 (not after every batch of them), then at the epoch's end.
    assert reads == [2, 4, 4], reads


def test_a_first_loss_that_is_not_finite_has_no_finite_one_before_it():
    with pytest.raises(NonFiniteLossError, match=r"at step 1 \(epoch 0, batch 0\); no finite loss before it"):
        fit([float("nan"), 1.0, 1.0, 1.0], check_every_n_steps=2)


def test_finite_losses_train_to_the_end():
    fit([1.0] * 8, check_every_n_steps=3)
