"""The digits splits: sizes, shapes, no shared samples (and a guard that fails when they are), and
independence from the run's seed."""

import logging

import lightning as L
import numpy as np
import pytest
import torch

from {{ cookiecutter.package_name }}.data.digits_datamodule import DigitsDataModule
from {{ cookiecutter.package_name }}.data.splits import DataLeakageError


@pytest.fixture(scope="module")
def datamodule():
    dm = DigitsDataModule(batch_size=32)
    dm.setup()
    return dm


def _rows(dataset) -> set[bytes]:
    return {x.numpy().tobytes() for x, _ in dataset}


def test_split_sizes(datamodule):
    assert [len(d) for d in (datamodule.train_set, datamodule.val_set, datamodule.test_set)] == [
        1257,
        270,
        270,
    ]


def test_batches_have_the_declared_shape(datamodule):
    x, y = next(iter(datamodule.train_dataloader()))
    assert x.shape == (32, *datamodule.contract.input_shape) and x.dtype == torch.float32
    assert y.shape == (32,) and int(y.max()) < datamodule.contract.num_outputs


def test_splits_share_no_sample(datamodule):
    train, val, test = (_rows(d) for d in (datamodule.train_set, datamodule.val_set, datamodule.test_set))
    # digits has a handful of exact duplicate images; a split by index must not add any more.
    assert len(train & test) <= 3 and len(train & val) <= 3 and len(val & test) <= 3


def test_every_class_is_in_every_split(datamodule):
    for dataset in (datamodule.train_set, datamodule.val_set, datamodule.test_set):
        assert set(dataset.tensors[1].tolist()) == set(range(10))


def test_normalisation_uses_training_statistics(datamodule):
    train_x = datamodule.train_set.tensors[0]
    assert abs(float(train_x.mean())) < 1e-4 and abs(float(train_x.std()) - 1) < 1e-2


def test_split_does_not_depend_on_the_run_seed():
    test_sets = []
    for seed in (1, 2):
        L.seed_everything(seed)
        dm = DigitsDataModule()
        dm.setup()
        test_sets.append(dm.test_set.tensors[0])
    assert torch.equal(*test_sets)


def test_split_seed_changes_the_split():
    first, second = DigitsDataModule(split_seed=0), DigitsDataModule(split_seed=1)
    first.setup(), second.setup()
    assert not torch.equal(first.test_set.tensors[0], second.test_set.tensors[0])


def test_k_folds_partition_the_non_test_data_and_keep_the_test_split():
    folds = [DigitsDataModule(num_folds=5, fold=i) for i in range(5)]
    for dm in folds:
        dm.setup()
    validation = [_rows(dm.val_set) for dm in folds]
    # Each non-test sample is validated exactly once (up to digits' few duplicate images).
    assert sum(len(v) for v in validation) == 1257 + 270
    assert all(len(a & b) <= 3 for i, a in enumerate(validation) for b in validation[i + 1 :])
    raw_test = [dm.test_set.tensors[0] * dm.std + dm.mean for dm in folds]
    assert all(torch.allclose(x, raw_test[0], atol=1e-4) for x in raw_test)


@pytest.mark.parametrize(("num_folds", "fold"), [(5, 5), (5, -1), (1, 0)])
def test_an_impossible_fold_is_a_clear_error(num_folds, fold):
    with pytest.raises(ValueError, match=rf"data.fold={fold} with data.num_folds={num_folds}"):
        DigitsDataModule(num_folds=num_folds, fold=fold)


class LeakyDigits(DigitsDataModule):
    """Copies three test examples into the training split, as a careless merge would."""

    def _stratified_split(self, x, y):
        splits = super()._stratified_split(x, y)
        (x_train, y_train), (x_test, y_test) = splits["train"], splits["test"]
        splits["train"] = (np.concatenate([x_train, x_test[:3]]), np.concatenate([y_train, y_test[:3]]))
        return splits


def test_a_split_sharing_examples_with_another_stops_the_set_up():
    with pytest.raises(
        DataLeakageError, match=r"3 example\(s\) of the 'test' split also in the 'train' split"
    ):
        LeakyDigits().setup()


def test_the_leakage_check_can_be_turned_off_explicitly():
    datamodule = LeakyDigits(check_leakage=False)
    datamodule.setup()
    assert len(datamodule.train_set) == 1257 + 3


class DigitsWithoutSevensInValidation(DigitsDataModule):
    def _stratified_split(self, x, y):
        splits = super()._stratified_split(x, y)
        x_val, y_val = splits["val"]
        splits["val"] = (x_val[y_val != 7], y_val[y_val != 7])
        return splits


def test_class_balance_is_logged_and_a_missing_class_warned_about(caplog):
    with caplog.at_level(logging.INFO):
        DigitsWithoutSevensInValidation().setup()
    assert "train: 1257 samples, per class {0: " in caplog.text
    assert "val split has no sample of class(es) [7]" in caplog.text
