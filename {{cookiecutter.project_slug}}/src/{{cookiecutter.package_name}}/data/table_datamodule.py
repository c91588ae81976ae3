"""Any table in a CSV or Parquet file: one row per example, named feature and target columns."""

import logging
from functools import cached_property

import numpy as np
import torch

from .contract import TASKS, DataContract
from .formats.table import Table, read_table
from .in_memory_datamodule import InMemoryDataModule
from .loading import InMemoryDataset
from .transforms.table_preprocessing import EncodedSplits, encode_splits, table_columns, validated

log = logging.getLogger(__name__)


class TableDataModule(InMemoryDataModule):
    """Rows of `path` split train/val/test once and for all, or `test_path` as the test split.

    The split depends on `split_seed` only, never on the run's seed, and is stratified by class
    for classification. With `num_folds=K`, validation is fold `fold` of a K-fold split of
    everything but the test split. Numeric features are imputed (median) and standardised,
    categorical ones one-hot encoded, with every statistic from the training split alone.
    Regression targets keep the table's units, so MSE and MAE read in them.

    `contract` is there before `setup()`, since the model is built first: its first use reads the
    table and fits the encoding, and `setup()` reuses that.
    """

    def __init__(
        self,
        path: str,
        target: str | list[str],
        features: list[str] | None = None,
        task: str = "classification",
        categorical: list[str] | None = None,
        test_path: str | None = None,
        root_dir: str | None = None,
        **kwargs,  # batch_size, the fractions, split_seed, num_folds, fold, ...: see InMemoryDataModule
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"task={task!r}: use {' or '.join(TASKS)}")
        if path is None or target is None:
            raise ValueError(
                "data=csv needs data.path=<table .csv or .parquet> and data.target=<column name>"
            )
        # Plain lists, not the config's ListConfig: checkpoints store these and load with weights_only.
        target = target if isinstance(target, str) else list(target)
        features = None if features is None else list(features)
        categorical = None if categorical is None else list(categorical)
        super().__init__(**kwargs)
        self.task = task

    @cached_property
    def contract(self) -> DataContract:
        """Input width after encoding; the classes (their original labels, as text), or the target
        columns scaled by their training-split mean and standard deviation."""
        hp = self.hparams
        train_features, train_targets = self.encoded.arrays["train"]
        input_shape = train_features.shape[1:]
        if self.task == "classification":
            return DataContract.classification(input_shape, self.encoded.class_names)
        targets = [hp.target] if isinstance(hp.target, str) else list(hp.target)
        return DataContract.regression(input_shape, targets, train_targets)

    @property
    def feature_names(self) -> list[str]:
        """The model's inputs in order: the numeric columns, then one `<column>_<category>` per category."""
        return self.encoded.feature_names

    @cached_property
    def encoded(self) -> EncodedSplits:
        """The table read, split and encoded: done once, on first use."""
        hp = self.hparams
        table = read_table(hp.path, "data.path", hp.root_dir)
        columns = table_columns(table, hp.target, hp.features, hp.categorical, self.task)
        table = validated(table, columns, self.task)
        test = None
        if hp.test_path is not None:
            test = validated(read_table(hp.test_path, "data.test_path", hp.root_dir), columns, self.task)
        encoded = encode_splits(self._split(table, test, columns.targets[0]), columns, self.task)
        log.info(
            f"{table.path}: {len(table.frame)} rows; numeric features {columns.numeric}, categorical "
            f"{columns.categorical}; {len(encoded.feature_names)} inputs after encoding"
        )
        return encoded

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        encoded = self.encoded
        # Leakage by content: a row's feature and target values as read, not as encoded.
        examples = {name: (encoded.examples[name], y) for name, (_, y) in encoded.arrays.items()}
        self.check_splits(examples, by_class=self.task == "classification")
        self.train_set, self.val_set, self.test_set = (
            InMemoryDataset(torch.from_numpy(x), torch.from_numpy(y)) for x, y in encoded.arrays.values()
        )

    def _split(self, table: Table, test: Table | None, target: str) -> dict[str, Table]:
        """Row subsets of `table` (and `test`), each keeping the row numbers of its file."""
        labels = table.frame[target].to_numpy() if self.task == "classification" else None
        rows = self.split_indices(
            len(table.frame), labels, fixed_test=test is not None, examples=f"rows of {table.path}"
        )

        def rows_of(part: np.ndarray) -> Table:
            return Table(table.frame.iloc[np.sort(part)], table.path, table.key)

        return {
            "train": rows_of(rows["train"]),
            "val": rows_of(rows["val"]),
            "test": rows_of(rows["test"]) if test is None else test,
        }
