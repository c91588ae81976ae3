"""data=csv: any CSV or Parquet table, on tables each test writes from scikit-learn's bundled wine
(classification) and diabetes (regression) data, with a categorical column and missing values added."""

import math

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, read_run, run_script
from sklearn.datasets import load_diabetes, load_wine

from {{ cookiecutter.package_name }}.data.splits import DataLeakageError
from {{ cookiecutter.package_name }}.data.table_datamodule import TableDataModule
from {{ cookiecutter.package_name }}.run.trusted_targets import instantiate

NUMERIC = list(load_wine().feature_names)
REGIONS = ["north", "south", "east"]


def wine_frame() -> pd.DataFrame:
    """178 wines: 13 numeric columns, a text column `region` and the text label `class`; a few gaps."""
    wine = load_wine(as_frame=True)
    frame = wine.data.copy()
    frame["region"] = [REGIONS[i % 3] for i in range(len(frame))]
    frame["class"] = [wine.target_names[t] for t in wine.target]
    frame.loc[[3, 50, 120], "alcohol"] = np.nan
    frame.loc[[7, 90], "region"] = None
    return frame


def diabetes_frame() -> pd.DataFrame:
    """442 patients, 10 measurements, `target` a disease progression score in its own units."""
    return load_diabetes(as_frame=True, scaled=False).frame


def write(frame: pd.DataFrame, path) -> str:
    if path.suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if ".tsv" in path.suffixes else ",")
    return str(path)


@pytest.fixture
def wine_csv(tmp_path) -> str:
    return write(wine_frame(), tmp_path / "wine.csv")


def wine_module(path: str, **options) -> TableDataModule:
    return TableDataModule(path=path, target="class", **options)


def ready(datamodule: TableDataModule) -> TableDataModule:
    datamodule.setup()
    return datamodule


def splits_of(datamodule: TableDataModule) -> list:
    return [datamodule.train_set, datamodule.val_set, datamodule.test_set]


def rows(dataset) -> set[bytes]:
    return {x.numpy().tobytes() for x in dataset.tensors[0]}


def with_row_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a numeric feature `row_id`, the row's position: a way to tell which rows a split has."""
    return frame.assign(row_id=np.arange(len(frame)))


def row_ids(datamodule: TableDataModule, dataset) -> list[int]:
    """The `row_id` of each example, its standardisation undone (whole numbers survive float32)."""
    scaler = datamodule.encoded.encoder.named_transformers_["numeric"][-1]
    column = datamodule.feature_names.index("row_id")
    values = dataset.tensors[0][:, column].double().numpy() * scaler.scale_[column] + scaler.mean_[column]
    return [int(value) for value in np.rint(values)]


@pytest.mark.parametrize("name", ["wine.csv", "wine.csv.gz", "wine.tsv", "wine.parquet", "wine.pq"])
def test_a_classification_table_becomes_stratified_splits_of_encoded_rows(tmp_path, name):
    datamodule = wine_module(write(wine_frame(), tmp_path / name))
    # 13 standardised numbers, then one column per region and one for a missing region.
    assert datamodule.contract.input_shape == (13 + 3 + 1,)
    assert datamodule.feature_names[:13] == NUMERIC
    assert sorted(datamodule.feature_names[13:]) == [
        "region_east",
        "region_nan",
        "region_north",
        "region_south",
    ]
    assert datamodule.contract.task == "classification" and datamodule.contract.num_outputs == 3
    assert datamodule.contract.class_names == ("class_0", "class_1", "class_2")
    ready(datamodule)
    sizes = [len(split) for split in splits_of(datamodule)]
    assert sum(sizes) == 178 and sizes[1] == sizes[2] == math.ceil(0.15 * 178)
    overall = np.bincount(load_wine().target) / 178
    for split in splits_of(datamodule):
        x, y = split.tensors
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape[1:] == datamodule.contract.input_shape
        # Stratified: each class's share of the split is the whole table's, to within one row.
        assert np.all(np.abs(np.bincount(y.numpy(), minlength=3) - overall * len(y)) <= 1)
    train, val, test = (rows(split) for split in splits_of(datamodule))
    assert len(train) + len(val) + len(test) == 178 and not (train & val or train & test or val & test)


def test_csv_and_parquet_of_one_table_give_the_same_tensors(tmp_path):
    from_csv = ready(wine_module(write(wine_frame(), tmp_path / "wine.csv")))
    from_parquet = ready(wine_module(write(wine_frame(), tmp_path / "wine.parquet")))
    for a, b in zip(splits_of(from_csv), splits_of(from_parquet), strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a.tensors, b.tensors, strict=True))


def test_the_loaders_give_batches_of_the_declared_shape(wine_csv):
    datamodule = ready(wine_module(wine_csv, batch_size=16))
    x, y = next(iter(datamodule.train_dataloader()))
    assert x.shape == (16, *datamodule.contract.input_shape) and y.shape == (16,)
    assert sum(len(y) for _, y in datamodule.test_dataloader()) == len(datamodule.test_set)


def test_the_shapes_are_known_before_setup_and_setup_reuses_what_was_read(tmp_path):
    path = tmp_path / "wine.csv"
    datamodule = wine_module(write(wine_frame(), path))
    assert datamodule.contract.input_shape == (17,) and datamodule.contract.num_outputs == 3
    path.unlink()  # setup must not read the file again
    assert len(ready(datamodule).train_set) > 0


def test_numeric_statistics_and_categories_come_from_the_training_split_alone(tmp_path):
    original = ready(wine_module(write(wine_frame(), tmp_path / "wine.csv")))
    encoder = original.encoded.encoder
    # The test rows of the table, found by encoding every row as the test rows were.
    every_row = encoder.transform(wine_frame()[NUMERIC + ["region"]]).astype(np.float32)
    test_bytes = rows(original.test_set)
    in_test = [i for i, row in enumerate(every_row) if row.tobytes() in test_bytes]
    assert len(in_test) == len(original.test_set)

    # Only test rows change: a value far outside anything seen, and a region never seen.
    changed = wine_frame()
    changed.loc[in_test, "alcohol"] = 1e6
    changed.loc[in_test, "region"] = "west"
    moved = ready(wine_module(write(changed, tmp_path / "changed.csv")))

    for name in ("train_set", "val_set"):
        assert torch.equal(getattr(original, name).tensors[0], getattr(moved, name).tensors[0])
    scaler = moved.encoded.encoder.named_transformers_["numeric"][-1]
    np.testing.assert_array_equal(scaler.mean_, encoder.named_transformers_["numeric"][-1].mean_)
    np.testing.assert_array_equal(scaler.scale_, encoder.named_transformers_["numeric"][-1].scale_)
    train_numeric = moved.train_set.tensors[0][:, :13]
    assert torch.allclose(train_numeric.mean(0), torch.zeros(13), atol=1e-5)
    assert torch.allclose(train_numeric.std(0, unbiased=False), torch.ones(13), atol=1e-4)
    test_x = moved.test_set.tensors[0]
    expected = (1e6 - scaler.mean_[0]) / scaler.scale_[0]
    assert torch.allclose(test_x[:, 0], torch.full((len(test_x),), expected, dtype=torch.float32))
    # A category never seen in training is all zeros, not an error.
    assert torch.count_nonzero(test_x[:, 13:]) == 0


def test_missing_values_get_the_training_median_or_a_category_of_their_own(tmp_path):
    datamodule = ready(wine_module(write(with_row_ids(wine_frame()), tmp_path / "wine.csv")))
    imputer, scaler = datamodule.encoded.encoder.named_transformers_["numeric"]
    train_ids = row_ids(datamodule, datamodule.train_set)
    assert imputer.statistics_[0] == wine_frame().loc[train_ids, "alcohol"].median()
    missing_region = datamodule.feature_names.index("region_nan")
    for split in splits_of(datamodule):
        for row, x in zip(row_ids(datamodule, split), split.tensors[0], strict=True):
            if row in (3, 50, 120):  # no alcohol: the training median, standardised
                expected = (imputer.statistics_[0] - scaler.mean_[0]) / scaler.scale_[0]
                assert math.isclose(float(x[0]), expected, rel_tol=1e-5, abs_tol=1e-6)
            assert float(x[missing_region]) == (1.0 if row in (7, 90) else 0.0)


def test_a_numeric_column_can_be_declared_categorical(tmp_path):
    frame = with_row_ids(wine_frame())
    datamodule = ready(
        wine_module(
            write(frame, tmp_path / "wine.csv"),
            features=["row_id", "magnesium", "region"],
            categorical=["magnesium"],
        )
    )
    seen = frame.loc[row_ids(datamodule, datamodule.train_set), "magnesium"].unique()
    # One input per magnesium value of the training rows (not all values land there).
    assert {name for name in datamodule.feature_names if name.startswith("magnesium_")} == {
        f"magnesium_{float(value)}" for value in seen
    }
    assert len(seen) < frame["magnesium"].nunique()


def test_a_separate_test_table_is_the_test_split_as_it_is(tmp_path):
    frame = wine_frame()
    held_out = frame.iloc[::5]
    main = frame.drop(index=held_out.index)
    datamodule = ready(
        wine_module(write(main, tmp_path / "train.csv"), test_path=write(held_out, tmp_path / "test.parquet"))
    )
    assert len(datamodule.test_set) == len(held_out)
    assert len(datamodule.train_set) + len(datamodule.val_set) == len(main)
    assert len(datamodule.val_set) == math.ceil(0.15 * len(main))


def test_regression_targets_are_float_columns_in_the_tables_units(tmp_path):
    frame = diabetes_frame()
    datamodule = TableDataModule(
        path=write(frame, tmp_path / "diabetes.parquet"), target="target", task="regression"
    )
    contract = datamodule.contract
    assert contract.task == "regression" and contract.target_names == ("target",)
    assert contract.class_names == () and contract.input_shape == (10,)
    ready(datamodule)
    targets = torch.cat([split.tensors[1] for split in splits_of(datamodule)])
    assert targets.dtype == torch.float32 and targets.shape == (442, 1)
    np.testing.assert_array_equal(
        np.sort(targets[:, 0].numpy()), np.sort(frame["target"].to_numpy(np.float32))
    )


def test_several_regression_targets_are_one_column_each(tmp_path):
    datamodule = ready(
        TableDataModule(
            path=write(diabetes_frame(), tmp_path / "diabetes.csv"),
            target=["target", "bmi"],
            task="regression",
        )
    )
    assert datamodule.contract.target_names == ("target", "bmi") and datamodule.contract.input_shape == (9,)
    assert datamodule.train_set.tensors[1].shape == (len(datamodule.train_set), 2)
    assert "bmi" not in datamodule.feature_names


def test_the_split_does_not_depend_on_the_run_seed(wine_csv):
    test_sets = []
    for seed in (1, 2):
        L.seed_everything(seed)
        test_sets.append(ready(wine_module(wine_csv)).test_set.tensors[0])
    assert torch.equal(*test_sets)
    other = ready(wine_module(wine_csv, split_seed=1)).test_set.tensors[0]
    assert not torch.equal(test_sets[0], other)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_k_folds_partition_the_rows_that_are_not_tested(tmp_path, task):
    if task == "classification":
        frame, target = wine_frame(), "class"
    else:
        frame, target = diabetes_frame(), "target"
    path = write(with_row_ids(frame), tmp_path / "table.csv")
    folds = [ready(TableDataModule(path, target, task=task, num_folds=4, fold=i)) for i in range(4)]
    tested = [set(row_ids(fold, fold.test_set)) for fold in folds]
    assert all(rows == tested[0] for rows in tested)
    validated = [row_ids(fold, fold.val_set) for fold in folds]
    # Every row outside the test split is validated exactly once over the folds.
    assert sorted(row for rows in validated for row in rows) == sorted(set(range(len(frame))) - tested[0])
    for fold in folds:
        assert set(row_ids(fold, fold.train_set)) | tested[0] | set(row_ids(fold, fold.val_set)) == set(
            range(len(frame))
        )


def test_a_record_in_two_splits_stops_the_set_up(tmp_path):
    """The same feature and target values twice is the same example, whatever its id says."""
    frame = wine_frame()
    doubled = pd.concat([frame, frame.iloc[:40]], ignore_index=True).assign(id=np.arange(178 + 40))
    path = write(doubled, tmp_path / "doubled.csv")
    features = [*NUMERIC, "region"]
    with pytest.raises(DataLeakageError, match=r"example\(s\) of the '\w+' split also in the '\w+' split"):
        ready(wine_module(path, features=features))
    assert len(ready(wine_module(path, features=features, check_leakage=False)).train_set) > 0


def test_equal_features_with_another_label_are_not_the_same_example(tmp_path):
    frame = wine_frame()
    relabelled = frame.iloc[:40].assign(**{"class": "class_2"})
    datamodule = ready(wine_module(write(pd.concat([frame, relabelled]), tmp_path / "relabelled.csv")))
    assert sum(len(split) for split in splits_of(datamodule)) == 178 + 40


def table_with(tmp_path, change, name="bad.csv") -> str:
    frame = wine_frame()
    change(frame)
    return write(frame, tmp_path / name)


def _text_in_a_number_column(frame):
    frame["magnesium"] = frame["magnesium"].astype(object)
    frame.loc[5, "magnesium"] = "12,5"


def _infinity_in_a_number_column(frame):
    frame.loc[20, "hue"] = np.inf


def _one_class(frame):
    frame["class"] = "same"


def _a_row_without_label(frame):
    frame.loc[12, "class"] = None


def _text_in_a_regression_target(frame):
    frame["score"] = np.arange(len(frame), dtype=float)
    frame["score"] = frame["score"].astype(object)
    frame.loc[9, "score"] = "n.a."


# (how the table is changed, options, the error type, what the message must say)
BAD_TABLES = [
    (
        None,
        {"target": "nope"},
        ValueError,
        r"data.target: no column 'nope' in .*bad.csv; its columns are: alcohol,",
    ),
    (
        None,
        {"features": ["hue", "nope"]},
        ValueError,
        r"data.features: no column 'nope' in .*; its columns are: ",
    ),
    (
        _text_in_a_number_column,
        {},
        ValueError,
        r"column 'magnesium' holds numbers, but '12,5' at line 7 of .*bad.csv is not a finite number: .*"
        r"or list the column in data.categorical",
    ),
    (
        _infinity_in_a_number_column,
        {},
        ValueError,
        r"column 'hue' holds numbers, but inf at line 22 of .*bad.csv is not a finite number",
    ),
    (
        _text_in_a_regression_target,
        {"target": "score", "task": "regression"},
        ValueError,
        r"data.target='score' must be a finite number .* but 'n.a.' at line 11 of .*bad.csv is not",
    ),
    (
        _one_class,
        {},
        ValueError,
        r"data.target='class' has one class \(same\) in the training rows of .*bad.csv",
    ),
    (
        _a_row_without_label,
        {},
        ValueError,
        r"data.target='class' is empty at line 14 of .*bad.csv",
    ),
    (
        None,
        {"target": "hue"},
        ValueError,
        r"data.target='hue' holds .* not a class label: .*task=regression",
    ),
    (None, {"target": ["class", "hue"]}, ValueError, r"several targets need task=regression"),
    (
        None,
        {"categorical": ["nope"]},
        ValueError,
        r"data.categorical names 'nope', which is not among the features",
    ),
    (None, {"features": ["hue", "class"]}, ValueError, r"data.features includes the target 'class'"),
    (None, {"task": "ranking"}, ValueError, r"task='ranking': use classification or regression"),
]


@pytest.mark.parametrize(("change", "options", "error", "message"), BAD_TABLES)
def test_a_bad_table_or_option_is_a_clear_error(tmp_path, change, options, error, message):
    path = table_with(tmp_path, change or (lambda frame: None))
    with pytest.raises(error, match=message) as caught:
        ready(TableDataModule(path=path, **{"target": "class", **options}))
    assert "\n" not in str(caught.value)


def test_a_missing_file_names_its_absolute_path_and_where_relative_paths_start(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        _ = TableDataModule(path="tables/none.csv", target="class", root_dir=str(tmp_path)).contract
    assert str(caught.value) == (
        f"data.path=tables/none.csv: no such file {tmp_path / 'tables' / 'none.csv'} "
        f"(a relative data.path is read from the project root {tmp_path})"
    )


def test_a_missing_absolute_path_is_named_as_given(tmp_path):
    missing = tmp_path / "none.csv"
    with pytest.raises(FileNotFoundError) as caught:
        _ = TableDataModule(path=str(missing), target="class", root_dir="/elsewhere").contract
    assert str(caught.value) == f"data.path={missing}: no such file {missing}"


def test_a_relative_path_is_read_from_the_project_root(tmp_path):
    write(wine_frame(), tmp_path / "wine.csv")
    assert TableDataModule(path="wine.csv", target="class", root_dir=str(tmp_path)).contract.num_outputs == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("table.xlsx", "a,b\n1,2\n", r"data.path=.*table.xlsx: cannot read '.xlsx' files; give a .csv, .tsv"),
        ("empty.csv", "", r"empty.csv is empty; it needs a header line and one row per example"),
        ("header.csv", "alcohol,class\n", r"header.csv has no rows, only the columns alcohol, class"),
        ("broken.parquet", "not parquet at all", r"broken.parquet is not a readable parquet table: "),
    ],
)
def test_an_unreadable_file_is_a_clear_error(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=message):
        _ = wine_module(str(tmp_path / name)).contract


def test_a_label_only_in_the_test_table_is_a_clear_error(tmp_path):
    frame = wine_frame()
    held_out = frame.iloc[:10].copy()
    held_out.loc[4, "class"] = "class_9"
    datamodule = wine_module(
        write(frame.iloc[10:], tmp_path / "train.csv"), test_path=write(held_out, tmp_path / "t.csv")
    )
    with pytest.raises(
        ValueError,
        match=r"the test split has the label 'class_9' of data.target='class' \(line 6 of .*t.csv\)",
    ):
        _ = datamodule.contract


def test_too_few_rows_for_the_splits_is_a_clear_error(tmp_path):
    path = write(wine_frame().iloc[[0, 1, 60, 61, 140]], tmp_path / "tiny.csv")
    with pytest.raises(
        ValueError, match=r"cannot split the 5 rows of .*tiny.csv by class with data.val_fraction="
    ):
        _ = wine_module(path).contract


def test_a_numeric_target_read_as_classes_is_pointed_to_regression(tmp_path):
    path = write(diabetes_frame(), tmp_path / "diabetes.csv")
    with pytest.raises(
        ValueError,
        match=r"^the target looks numeric .* use task=regression .*\(cannot split the 442 rows of .*diabetes",
    ):
        _ = TableDataModule(path=path, target="target").contract


def test_training_on_a_csv_table_end_to_end(tmp_path, wine_csv):
    run_dir = tmp_path / "run"
    run_script(
        "train.py",
        "data=csv",
        f"data.path={wine_csv}",
        "data.target=class",
        "model=mlp",
        "trainer.max_epochs=2",
        "logger=csv",
        f"hydra.run.dir={run_dir}",
    )
    run = read_run(run_dir)
    assert run["status"] == "completed" and 0 <= run["metrics"]["test/acc"] <= 1


def test_the_default_table_is_the_shipped_copy_of_the_wine_data(make_config):
    """configs/data/csv.yaml reads examples/wine.csv, which must be scikit-learn's wine data."""
    datamodule = instantiate(make_config("data=csv").data)
    assert datamodule.contract.class_names == ("class_0", "class_1", "class_2")
    assert datamodule.contract.input_shape == (13,)
    shipped, wine = pd.read_csv(ROOT / "examples" / "wine.csv"), load_wine(as_frame=True)
    np.testing.assert_allclose(shipped[wine.feature_names].to_numpy(), wine.data.to_numpy(), rtol=1e-12)
    assert shipped["class"].tolist() == [wine.target_names[t] for t in wine.target]


def test_a_regression_trains_and_reports_r2_in_the_tables_units(tmp_path):
    table = write(diabetes_frame(), tmp_path / "diabetes.parquet")
    run_dir = tmp_path / "run"
    run_script(
        "train.py",
        "data=csv",
        f"data.path={table}",
        "data.target=target",
        "task=regression",
        "model=linear",
        "model.optimizer.lr=0.01",
        "trainer.max_epochs=40",
        "logger=csv",
        # The figures of classes have nothing to show for a regression, and must not stop it.
        "callbacks=[default,visualise]",
        f"hydra.run.dir={run_dir}",
    )
    assert not (run_dir / "confusion_matrix.png").exists() and not (run_dir / "predictions.png").exists()
    run = read_run(run_dir)
    metrics = run["metrics"]
    # The mean of the training targets scores R² = 0; a linear model on diabetes gets about 0.2-0.5.
    assert metrics["test/r2"] > 0.1 and metrics["val/r2_best"] > 0.1
    # MSE in the table's units: R² = 1 - MSE / variance of the test targets.
    test_targets = TableDataModule(path=str(table), target="target", task="regression")
    test_targets.setup()
    variance = float(test_targets.test_set.tensors[1].var(unbiased=False))
    assert metrics["test/r2"] == pytest.approx(1 - metrics["test/mse"] / variance, abs=1e-3)
    assert 1000 < metrics["test/mse"] < variance
    # eval.py rebuilds the regression (task, module, data) from the training run and says so.
    eval_dir = tmp_path / "eval"
    run_script("eval.py", f"ckpt_path={run['best_checkpoint']}", f"hydra.run.dir={eval_dir}")
    evaluated = read_run(eval_dir)
    assert evaluated["choices"]["task"] == "regression" and evaluated["choices"]["data"] == "csv"
    assert evaluated["metrics"]["test/r2"] == pytest.approx(metrics["test/r2"], abs=1e-6)
