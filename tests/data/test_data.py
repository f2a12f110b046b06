"""Reading tables, schema and task detection on real data, and every data error message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, SAMPLES

from automl.data import (
    CATEGORICAL,
    CONSTANT,
    DATETIME,
    ID,
    NUMERIC,
    TEXT,
    detect_task,
    infer_schema,
    load_dataset,
    prepare_dataset,
    read_table,
)
from automl.errors import DataError


@pytest.mark.parametrize("path,target,task", [
    (SAMPLES / "titanic.csv", "Survived", "binary"),
    (DATA / "credit-g.csv", "class", "binary"),
    (DATA / "phoneme.csv", "Class", "binary"),
    (DATA / "wine-quality.csv", "quality", "multiclass"),
    (SAMPLES / "car-evaluation.csv", "class", "multiclass"),
    (SAMPLES / "ames-house-prices.csv", "SalePrice", "regression"),
])
def test_task_detected_on_real_datasets(path, target, task):
    assert load_dataset(path, target).task == task


def test_titanic_schema_kinds(titanic):
    schema = infer_schema(titanic.drop(columns=["Survived"]))
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds["PassengerId"] == ID  # a row number
    assert kinds["Name"] == TEXT  # free text, one sentence per row
    assert kinds["Sex"] == CATEGORICAL  # two values, but not yes/no-like
    assert kinds["Age"] == NUMERIC and kinds["Fare"] == NUMERIC
    assert kinds["Embarked"] == CATEGORICAL
    assert "Name" not in schema.features and "PassengerId" not in schema.features
    assert schema["Age"].n_missing == 177


def test_dates_constants_and_ids_are_recognised():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "when": pd.date_range("2024-01-01", periods=200, freq="D").strftime("%m/%d/%Y"),
        "const": ["x"] * 200,
        "key": [f"K{i:05d}" for i in range(200)],
        "amount": rng.normal(size=200),
    })
    kinds = {c.name: c.kind for c in infer_schema(frame).columns}
    assert kinds == {"when": DATETIME, "const": CONSTANT, "key": ID, "amount": NUMERIC}


def test_task_override_and_integer_targets():
    assert detect_task(pd.Series([0, 1] * 50)) == "binary"
    assert detect_task(pd.Series(np.arange(300) % 5)) == "multiclass"
    assert detect_task(pd.Series(np.linspace(0, 1, 300))) == "regression"
    frame = pd.read_csv(DATA / "wine-quality.csv")
    assert prepare_dataset(frame, "quality", task="regression").task == "regression"


def test_csv_sniffing_semicolon_latin1():
    text = "nom;ville;prix\n" + "\n".join(f"café{i % 3};Liège;{i}" for i in range(50))
    frame = read_table(text.encode("cp1252"), name="prices.csv")
    assert list(frame.columns) == ["nom", "ville", "prix"]
    assert frame.loc[0, "ville"] == "Liège"


def test_parquet_and_excel_round_trip(tmp_path, titanic):
    titanic.to_parquet(tmp_path / "t.parquet")
    titanic.head(100).to_excel(tmp_path / "t.xlsx", index=False)
    assert read_table(tmp_path / "t.parquet").shape == titanic.shape
    assert read_table(tmp_path / "t.xlsx").shape == (100, titanic.shape[1])


def test_rows_with_missing_target_are_dropped_and_counted(titanic):
    frame = titanic.copy()
    frame.loc[:9, "Survived"] = np.nan
    ds = prepare_dataset(frame, "Survived")
    assert ds.dropped_missing_target == 10
    assert len(ds.X) == len(titanic) - 10


def _message(excinfo) -> str:
    return str(excinfo.value)


@pytest.mark.parametrize("content,name,words", [
    (b"", "empty.csv", ["empty", "Choose a file"]),
    (b"a,b,c\n", "header.csv", ["no data rows"]),
    (b"\x00\x01\x02binary" * 10, "blob.csv", ["binary"]),
    (b"a,b\n1,2\n3,4,5,6\n", "ragged.csv", ["could not be parsed", "same number of fields"]),
    (b"PAR1garbage", "bad.parquet", ["Parquet"]),
    (b"x", "table.json", ["extension", "CSV"]),
])
def test_unreadable_files_name_the_problem_and_fix(content, name, words):
    with pytest.raises(DataError) as excinfo:
        read_table(content, name=name)
    for word in words:
        assert word in _message(excinfo)
    assert excinfo.value.fix


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_table_over_memory_budget(monkeypatch, titanic):
    monkeypatch.setenv("AUTOML_MEMORY_BUDGET_MB", "0.05")
    with pytest.raises(DataError) as excinfo:
        read_table(titanic.to_csv(index=False).encode(), name="titanic.csv")
    assert "GB" in _message(excinfo) and "AUTOML_MEMORY_BUDGET_MB" in excinfo.value.fix


def test_target_errors(titanic):
    with pytest.raises(DataError, match="'Survive' is not in the table.*Did you mean 'Survived'"):
        prepare_dataset(titanic, "Survive")
    with pytest.raises(DataError, match="empty on every row"):
        prepare_dataset(titanic.assign(Survived=np.nan), "Survived")
    with pytest.raises(DataError, match="single value"):
        prepare_dataset(titanic.assign(Survived=1), "Survived")


def test_rare_class_fewer_rows_than_folds(titanic):
    frame = titanic.copy()
    frame.loc[:2, "Survived"] = 7  # three rows of a third class, five folds
    with pytest.raises(DataError) as excinfo:
        prepare_dataset(frame, "Survived", cv_folds=5)
    assert "7 (3 rows)" in _message(excinfo) and "fewer CV folds" in excinfo.value.fix


def test_no_usable_feature():
    frame = pd.DataFrame({"id": range(100), "const": 1, "y": [0, 1] * 50})
    with pytest.raises(DataError, match="No column can be used as a feature"):
        prepare_dataset(frame, "y")


def test_regression_target_must_be_numeric(titanic):
    with pytest.raises(DataError, match="non-numeric"):
        prepare_dataset(titanic, "Sex", task="regression")
