"""From a table's columns to a model's inputs and targets, with every statistic taken from the
training split alone: what the model is evaluated on must not shape its inputs."""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, LabelEncoder, OneHotEncoder, StandardScaler

from ..formats.table import Table, column_list

log = logging.getLogger(__name__)

# Above both, an automatically categorical column is more likely an id or a badly written number.
MANY_CATEGORIES, MANY_CATEGORIES_SHARE = 50, 0.5


@dataclass(frozen=True)
class TableColumns:
    """The target column(s), and the features split into numeric and categorical ones."""

    targets: list[str]
    numeric: list[str]
    categorical: list[str]


@dataclass(frozen=True)
class EncodedSplits:
    """Each split as (features float32 (N, F), targets), and what the encoding learnt from train."""

    arrays: dict[str, tuple[np.ndarray, np.ndarray]]
    feature_names: list[str]
    # The original labels as text, in the order of the encoded classes 0..K-1; None for regression.
    class_names: list[str] | None
    # Fitted on the training split: its scaler's mean_ and scale_ are the training statistics.
    encoder: ColumnTransformer
    # Each split's rows (the feature and target columns as read) as (N, 1) pandas row hashes: the
    # same example in two splits is the same row there, whichever columns the model is given.
    examples: dict[str, np.ndarray]


def table_columns(
    table: Table,
    target: str | list[str],
    features: list[str] | None,
    categorical: list[str] | None,
    task: str,
) -> TableColumns:
    """Which columns are targets, numeric features and categorical features.

    A feature is categorical when listed in `categorical`, or when its values are text, booleans
    or pandas categories; a text column whose values are mostly numbers stays numeric, so that a
    stray "12,5" is reported (see `validated`) instead of turning every number into a category.
    """
    targets = [target] if isinstance(target, str) else list(target)
    if not targets:
        raise ValueError("data.target is empty: name the column to predict")
    if task == "classification" and len(targets) > 1:
        raise ValueError(
            f"data.target lists {len(targets)} columns ({column_list(targets)}): several targets need "
            "task=regression; classification predicts one column"
        )
    _require_columns(table, targets, "data.target")
    if features is None:
        features = [column for column in table.frame.columns if column not in targets]
    _require_columns(table, features, "data.features")
    if not features:
        raise ValueError(
            f"data.features is empty for {table.path}: give at least one column, or null for every column "
            "but the target"
        )
    leaked = [column for column in features if column in targets]
    if leaked:
        raise ValueError(
            f"data.features includes the target {', '.join(map(repr, leaked))}: a model must not be given "
            "what it predicts"
        )
    categorical = list(categorical or [])
    strays = [column for column in categorical if column not in features]
    if strays:
        raise ValueError(
            f"data.categorical names {', '.join(map(repr, strays))}, which is not among the features: "
            f"{column_list(features)}"
        )
    categorical += [
        column for column in features if column not in categorical and _holds_categories(table, column)
    ]
    numeric = [column for column in features if column not in categorical]
    return TableColumns(targets, numeric, [column for column in features if column in categorical])


def validated(table: Table, columns: TableColumns, task: str) -> Table:
    """`table` with its numeric columns as floats, after checking every column the run needs.

    Fails on a missing column, text in a numeric feature or regression target, a row without
    a target, and a classification target that cannot be one.
    """
    _require_columns(table, columns.targets, "data.target")
    _require_columns(table, columns.numeric + columns.categorical, "data.features")
    frame = table.frame.copy()
    for column in columns.targets:
        empty = frame.index[frame[column].isna()]
        if len(empty):
            raise ValueError(
                f"data.target={column!r} is empty at {table.where(empty[0])} ({len(empty)} row(s) in all): "
                "every row needs a target; drop those rows or fill them in"
            )
    for column in columns.numeric:
        if bad := _first_non_number(table, column):
            raise ValueError(
                f"column {column!r} holds numbers, but {bad} is not a finite number: fix it (leave the cell "
                "empty if the value is missing), or list the column in data.categorical"
            )
        frame[column] = _as_floats(frame[column])
    if task == "classification":
        frame[columns.targets[0]] = _labels(table, columns.targets[0])
        return Table(frame, table.path, table.key)
    for column in columns.targets:
        if bad := _first_non_number(table, column):
            raise ValueError(
                f"data.target={column!r} must be a finite number on every row for task=regression, but "
                f"{bad} is not: fix that value, or use task=classification for labels"
            )
        frame[column] = _as_floats(frame[column])
    return Table(frame, table.path, table.key)


def encode_splits(splits: dict[str, Table], columns: TableColumns, task: str) -> EncodedSplits:
    """Fits the feature encoder and the label encoding on `splits["train"]`, then encodes every split."""
    encoder = _feature_encoder(columns)
    features = columns.numeric + columns.categorical
    encoder.fit(splits["train"].frame[features])
    if task == "classification":
        labels = LabelEncoder().fit(splits["train"].frame[columns.targets[0]].to_numpy())
        class_names = [str(label) for label in labels.classes_]
        if len(class_names) < 2:
            raise ValueError(
                f"data.target={columns.targets[0]!r} has one class ({class_names[0]}) in the training rows "
                f"of {splits['train'].path}: classification needs two or more; for a numeric target use "
                "task=regression"
            )
    else:
        labels, class_names = None, None
    arrays = {
        name: (
            encoder.transform(split.frame[features]).astype(np.float32),
            _targets(split, name, columns.targets, labels),
        )
        for name, split in splits.items()
    }
    examples = {
        name: pd.util.hash_pandas_object(split.frame[features + columns.targets], index=False).to_numpy()[
            :, None
        ]
        for name, split in splits.items()
    }
    return EncodedSplits(arrays, list(encoder.get_feature_names_out()), class_names, encoder, examples)


def _feature_encoder(columns: TableColumns) -> ColumnTransformer:
    """Numeric: train median for missing values, then train mean/std (a constant column scales by 1).
    Categorical: one column per category seen in training; a missing value is a category of its own,
    and a category never seen in training encodes as all zeros."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        FunctionTransformer(_as_text, feature_names_out="one-to-one"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [("numeric", numeric, columns.numeric), ("categorical", categorical, columns.categorical)],
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    # One type per column for the encoder: 3 and "3" are one category, missing values stay missing.
    return frame.astype(str).astype(object).where(frame.notna(), np.nan)


def _targets(split: Table, name: str, targets: list[str], labels: LabelEncoder | None) -> np.ndarray:
    """Class indices (N,) int64 for classification; (N, num_targets) float32, in the table's units."""
    if labels is None:
        # A copy: pandas may hand out a read-only view, which torch would share.
        return np.array(split.frame[targets], dtype=np.float32)
    values = split.frame[targets[0]]
    unseen = ~np.isin(values.to_numpy(), labels.classes_)
    if unseen.any():
        row = values.index[unseen][0]
        known = ", ".join(str(label) for label in labels.classes_)
        raise ValueError(
            f"the {name} split has the label {_shown(values[row])} of data.target={targets[0]!r} "
            f"({split.where(row)}), which the training split never has (its classes: {known}): "
            "add examples of it to the training data, or remove those rows"
        )
    return labels.transform(values.to_numpy()).astype(np.int64)


def _require_columns(table: Table, columns: list[str], key: str) -> None:
    missing = [column for column in columns if column not in table.frame.columns]
    if missing:
        raise ValueError(
            f"{key}: no column {', '.join(map(repr, missing))} in {table.path}; its columns are: "
            f"{column_list(table.frame.columns)}"
        )


def _holds_categories(table: Table, column: str) -> bool:
    values = table.frame[column]
    if pd.api.types.is_bool_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return False
    present = values.dropna()
    if len(present) and pd.to_numeric(present, errors="coerce").notna().mean() > 0.5:
        return False  # mostly numbers: a numeric column with a few bad values
    distinct = present.nunique()
    if distinct > MANY_CATEGORIES and distinct > MANY_CATEGORIES_SHARE * len(present):
        log.warning(
            f"column {column!r} of {table.path} is categorical with {distinct} distinct values in "
            f"{len(present)} rows: if it is an id, leave it out of data.features"
        )
    return True


def _first_non_number(table: Table, column: str) -> str | None:
    """The first value of `column` that is there but is not a finite number, and where it is."""
    values = table.frame[column]
    if pd.api.types.is_bool_dtype(values):
        return None
    numbers = pd.to_numeric(values, errors="coerce")
    # A scaler or a loss turns one infinity into NaN everywhere.
    bad = (values.notna() & numbers.isna()) | numbers.isin([np.inf, -np.inf])
    if not bad.any():
        return None
    row = values.index[bad][0]
    return f"{_shown(values[row])} at {table.where(row)}"


def _as_floats(values: pd.Series) -> pd.Series:
    """float64 with NaN for a missing value (also from pandas' nullable integer and boolean types)."""
    return pd.to_numeric(values.astype(object).where(values.notna(), np.nan)).astype(np.float64)


def _labels(table: Table, column: str) -> pd.Series:
    """The class labels of `column`; whole numbers read as floats (e.g. 1.0) become integers again."""
    values = table.frame[column]
    if not pd.api.types.is_float_dtype(values):
        return values
    fractional = values != values.round()
    if fractional.any():
        row = values.index[fractional][0]
        raise ValueError(
            f"data.target={column!r} holds {_shown(values[row])} at {table.where(row)}, not a class label: "
            "for a numeric target use task=regression"
        )
    return values.astype(np.int64)


def _shown(value) -> str:
    """A value as the table has it: 2.5 and 'n/a', not np.float64(2.5)."""
    return repr(value.item() if isinstance(value, np.generic) else value)
