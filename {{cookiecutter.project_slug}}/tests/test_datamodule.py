"""The digits splits: sizes, shapes, no shared samples (and a guard that fails when they are), and
independence from the run's seed; `split_indices`, which draws the splits of every data module."""

import logging

import lightning as L
import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes

from {{ cookiecutter.package_name }}.data.digits_datamodule import DigitsDataModule
from {{ cookiecutter.package_name }}.data.loading import DeviceBatches, InMemoryDataset
from {{ cookiecutter.package_name }}.data.splits import DataLeakageError, split_indices
from train import train


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

    def split_indices(self, *args, **kwargs):
        indices = super().split_indices(*args, **kwargs)
        indices["train"] = np.concatenate([indices["train"], indices["test"][:3]])
        return indices


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
    def split_indices(self, num_examples, labels=None, **kwargs):
        indices = super().split_indices(num_examples, labels, **kwargs)
        indices["val"] = indices["val"][labels[indices["val"]] != 7]
        return indices


def test_class_balance_is_logged_and_a_missing_class_warned_about(caplog):
    with caplog.at_level(logging.INFO):
        DigitsWithoutSevensInValidation().setup()
    assert "train: 1257 samples, per class {0: " in caplog.text
    assert "val split has no sample of class(es) [7]" in caplog.text


def test_split_indices_partition_the_examples_with_fractions_of_the_whole():
    labels = np.repeat(np.arange(4), 50)
    indices = split_indices(200, labels, val_fraction=0.2, test_fraction=0.1, split_seed=0)
    assert [len(indices[name]) for name in ("train", "val", "test")] == [140, 40, 20]
    assert sorted(np.concatenate(list(indices.values()))) == list(range(200))
    # Stratified: every split holds each class in the whole set's proportion.
    assert all(np.all(np.bincount(labels[index]) == len(index) // 4) for index in indices.values())


@pytest.mark.parametrize("labels", [np.repeat(np.arange(4), 25), None], ids=["stratified", "regression"])
def test_k_folds_of_split_indices_keep_the_test_split(labels):
    folds = [
        split_indices(100, labels, val_fraction=0.2, test_fraction=0.2, num_folds=4, fold=i) for i in range(4)
    ]
    assert all(np.array_equal(fold["test"], folds[0]["test"]) for fold in folds)
    validated = np.concatenate([fold["val"] for fold in folds])
    assert sorted(validated) == sorted(set(range(100)) - set(folds[0]["test"].tolist()))
    assert all(set(fold["train"]) | set(fold["val"]) | set(fold["test"]) == set(range(100)) for fold in folds)


def test_a_fixed_test_split_leaves_train_and_val_drawn_from_the_rest():
    indices = split_indices(100, None, val_fraction=0.1, test_fraction=None, split_seed=3)
    assert sorted(indices) == ["train", "val"] and len(indices["val"]) == 10
    assert sorted(np.concatenate([indices["train"], indices["val"]])) == list(range(100))


def test_an_impossible_stratified_split_names_the_keys_on_one_line():
    with pytest.raises(ValueError) as error:
        split_indices(5, np.array([0, 0, 1, 1, 2]), val_fraction=0.2, test_fraction=0.2, num_folds=2)
    message = str(error.value)
    assert message.startswith(
        "cannot split the 5 examples by class with data.val_fraction=0.2, data.test_fraction=0.2, "
        "data.num_folds=2: "
    )
    assert "\n" not in message and message.endswith("use more data or other fractions")


def test_labels_that_look_like_a_numeric_target_point_to_regression():
    target = load_diabetes().target  # 214 distinct whole numbers in 442 rows
    with pytest.raises(
        ValueError, match=r"target looks numeric \(214 distinct values in 442 examples\)"
    ) as error:
        split_indices(len(target), target, val_fraction=0.15, test_fraction=0.15)
    message = str(error.value)
    assert message.startswith("the target looks numeric") and "use task=regression" in message
    assert "cannot split the 442" in message and "\n" not in message


@pytest.mark.parametrize("overrides", [["model=mlp"], ["model=cnn", "data=digits"]])
def test_splits_resident_on_the_device_train_exactly_as_from_host_memory(make_config, overrides):
    """`data.device=accelerator` indexes each batch where the split lives (here the CPU, the same
    code path as a GPU's): the same batches in the same order as `host`, so the same run."""
    results = {}
    for device in ("host", "accelerator"):
        cfg = make_config(*overrides, "debug=limit", "trainer.deterministic=true", f"data.device={device}")
        results[device] = train(cfg).metrics
    assert results["accelerator"] == results["host"]


def test_device_resident_batches_cover_the_split_once_per_epoch():
    dataset = InMemoryDataset(torch.arange(10).float().unsqueeze(1), torch.arange(10))
    for shuffle in (False, True):
        batches = list(DeviceBatches(len(dataset), 4, shuffle, torch.device("cpu")))
        assert [len(batch) for batch in batches] == [4, 4, 2]
        assert sorted(torch.cat(batches).tolist()) == list(range(10))
        x, y = dataset.__getitems__(batches[0])
        assert y.tolist() == batches[0].tolist() and x.squeeze(1).tolist() == batches[0].float().tolist()


def test_an_unknown_data_device_is_named(make_config):
    cfg = make_config("debug=limit", "data.device=gpu0")
    with pytest.raises(ValueError, match=r"data.device='gpu0': use one of auto, accelerator, host"):
        train(cfg)


@pytest.mark.parametrize(("setting", "resident"), [("accelerator", True), ("host", False), ("auto", False)])
def test_which_splits_live_on_the_device(setting, resident):
    # On this CPU-only trainer `auto` keeps host memory: there is no GPU memory to save copies to.
    datamodule = DigitsDataModule(device=setting)
    datamodule.trainer = L.Trainer(accelerator="cpu", devices=1, logger=False)
    datamodule.setup("fit")
    for loader in (datamodule.train_dataloader(), datamodule.val_dataloader()):
        assert isinstance(loader.batch_sampler, DeviceBatches) == resident


@pytest.mark.parametrize("device", ["host", "accelerator"])
def test_a_last_training_batch_of_one_sample_is_dropped(device, caplog):
    # 1257 training samples at batch 8: 157 batches of 8 and one of 1, on which BatchNorm fails.
    datamodule = DigitsDataModule(batch_size=8, device=device)
    datamodule.trainer = L.Trainer(accelerator="cpu", devices=1, logger=False)
    datamodule.setup("fit")
    with caplog.at_level(logging.INFO):
        train_batches = [len(y) for _, y in datamodule.train_dataloader()]
    assert len(datamodule.train_set) == 1257 and train_batches == [8] * 157
    assert "leave a last batch of 1 sample; it is dropped" in caplog.text
    # Validation keeps every sample: 270 = 33 x 8 + 6.
    assert [len(y) for _, y in datamodule.val_dataloader()][-1] == 6


def test_batch_norm_trains_at_a_batch_size_that_leaves_one_sample(make_config):
    cfg = make_config(
        "model=mlp", "data.batch_size=8", "trainer.max_epochs=1", "+trainer.limit_val_batches=2"
    )
    assert train(cfg).metrics["train/loss"] > 0
