"""The column profile and its warnings, leakage suspects above all: copies of the target are flagged,
honest columns are not (Titanic for classification, Ames house prices for regression)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES

from automl.data import profile_table


def _flip(y: pd.Series, share: float, seed: int = 0) -> pd.Series:
    """``y`` with ``share`` of its rows set to the other class (binary 0/1)."""
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < share
    return y.where(~flip, 1 - y)


def _warning(profile, column: str) -> str:
    return profile.columns.set_index("column").loc[column, "warnings"]


def _leaks(profile) -> set[str]:
    return {row.column for row in profile.columns.itertuples() if "leakage suspect" in row.warnings}


@pytest.fixture(scope="module")
def ames() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "ames-house-prices.csv")


def test_profile_of_titanic_one_row_per_column_with_the_usual_warnings(titanic):
    profile = profile_table(titanic, "Survived", "binary")
    table = profile.columns.set_index("column")
    assert list(table.index) == list(titanic.columns)
    assert (profile.n_rows, profile.n_columns) == titanic.shape and profile.memory_mb > 0
    assert table.loc["Age", "missing_pct"] == round(100 * titanic["Age"].isna().mean(), 2)
    assert table.loc["Embarked", "unique"] == 3
    assert table.loc["Survived", "warnings"] == "target" and not table.loc["Survived", "used"]
    assert "id-like" in table.loc["PassengerId", "warnings"] and not table.loc["PassengerId", "used"]
    assert "free text" in table.loc["Name", "warnings"] and not table.loc["Name", "used"]
    assert "77% missing" in table.loc["Cabin", "warnings"]
    assert "high cardinality (681 categories)" in table.loc["Ticket", "warnings"] and table.loc["Ticket", "used"]
    assert table.loc["Fare", "warnings"] == "" and table.loc["Fare", "used"]
    assert "'Cabin': 77% missing" in profile.warnings and not any(w.startswith("'Survived'") for w in profile.warnings)


def test_an_honest_table_has_no_leakage_suspect(titanic, ames):
    assert _leaks(profile_table(titanic, "Survived", "binary")) == set()
    assert _leaks(profile_table(ames, "SalePrice", "regression")) == set()


def test_constant_columns_are_named():
    frame = pd.DataFrame({"x": np.arange(100) % 7, "same": 1, "empty": np.nan, "y": [0, 1] * 50})
    profile = profile_table(frame, "y")
    assert "constant (a single value)" in _warning(profile, "same")
    assert "constant (all values missing)" in _warning(profile, "empty")
    assert "100% missing" in _warning(profile, "empty")


@pytest.mark.parametrize("make,name", [
    (lambda y: y.map({0: "died", 1: "lived"}), "a relabelled copy"),
    (lambda y: y == 1, "a boolean copy"),
    (lambda y: _flip(y, 0.01), "a copy with 1% of rows flipped"),
    (lambda y: y * 100 + np.random.default_rng(0).normal(size=len(y)), "a number that is the target plus noise"),
])
def test_a_copy_or_near_copy_of_a_class_target_is_flagged(titanic, make, name):
    frame = titanic.assign(leak=make(titanic["Survived"]))
    profile = profile_table(frame, "Survived", "binary")
    assert _leaks(profile) == {"leak"}, name
    assert "predicts 'Survived' almost perfectly on its own" in _warning(profile, "leak")
    assert any(w.startswith("'leak': leakage suspect") for w in profile.warnings)


def test_a_noisy_copy_is_informative_not_a_leak(titanic):
    frame = titanic.assign(hint=_flip(titanic["Survived"], 0.1).map({0: "a", 1: "b"}))
    assert _leaks(profile_table(frame, "Survived", "binary")) == set()  # 90% right is a strong feature, no more


def test_a_leaky_multiclass_column_is_flagged():
    frame = pd.read_csv(SAMPLES / "car-evaluation.csv")
    frame["rating_code"] = frame["class"].map({"unacc": 0, "acc": 1, "good": 2, "vgood": 3})
    frame.loc[frame.index[:10], "rating_code"] = 0  # a few wrong: still a near-copy
    profile = profile_table(frame, "class", "multiclass")
    assert _leaks(profile) == {"rating_code"}


def test_near_unique_values_are_not_called_a_leak():
    """Mostly distinct values 'predict' any target in-sample (each value seen once is always right); that's
    an identifier-like column, not a leak. Here 340 values appear once and 30 twice, each pair agreeing."""
    rng = np.random.default_rng(0)
    codes = [f"r{i}" for i in range(340)] + [f"p{i // 2}" for i in range(60)]
    y = np.concatenate([rng.integers(0, 2, size=340), np.repeat(rng.integers(0, 2, size=30), 2)])
    frame = pd.DataFrame({"code": codes, "x": rng.normal(size=400), "y": y})
    profile = profile_table(frame, "y", "binary")
    assert profile.columns.set_index("column").loc["code", "kind"] == "categorical"
    assert _leaks(profile) == set()


def test_a_target_so_imbalanced_that_guessing_scores_high_does_not_flag_everything():
    rng = np.random.default_rng(0)
    n = 2000
    y = pd.Series((rng.random(n) < 0.01).astype(int))  # 99% one class: any column "scores" 0.99
    frame = pd.DataFrame({"colour": rng.choice(["red", "green", "blue"], size=n), "x": rng.normal(size=n), "y": y})
    assert _leaks(profile_table(frame, "y", "binary")) == set()


@pytest.mark.parametrize("make,flagged", [
    (lambda p: p * 1.1 + np.random.default_rng(0).normal(0, 1, size=len(p)), True),  # a rescaled copy
    (lambda p: np.log(p), True),  # monotone: the ranks are the target's
    (lambda p: -p, True),  # a negative correlation leaks as much
    (lambda p: p + np.random.default_rng(0).normal(0, p.std(), size=len(p)), False),  # correlated, not a copy
])
def test_a_regression_target_leaks_through_rank_correlation(ames, make, flagged):
    frame = ames.assign(leak=make(ames["SalePrice"].astype(float)))
    assert _leaks(profile_table(frame, "SalePrice", "regression")) == ({"leak"} if flagged else set())


def test_categorical_columns_are_not_checked_against_a_regression_target(ames):
    frame = ames.assign(price_band=ames["SalePrice"].astype(str))  # a perfect copy, but as categories
    profile = profile_table(frame, "SalePrice", "regression")
    assert "leak" not in _warning(profile, "price_band")


def test_without_a_target_nothing_is_a_leak(titanic):
    frame = titanic.assign(leak=titanic["Survived"].map({0: "died", 1: "lived"}))
    profile = profile_table(frame)
    assert _leaks(profile) == set() and "target" not in profile.columns["warnings"].tolist()
    assert profile.columns.set_index("column").loc["Survived", "used"]  # no target named: every usable column is


def test_a_wide_table_profiles_fast_and_still_finds_a_leak():
    """200 rows × 5,000 columns took 46 s (a crosstab per column); the check is vectorised and capped."""
    import time

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200)
    frame = pd.DataFrame(rng.normal(size=(200, 5000)), columns=[f"f{i}" for i in range(5000)])
    frame["leak"], frame["y"] = y * 3.0 + rng.normal(0, 0.01, size=200), y
    start = time.perf_counter()
    profile = profile_table(frame, "y", "binary")
    assert time.perf_counter() - start < 10
    assert _leaks(profile) == {"leak"} and len(profile.columns) == 5002


def test_the_leakage_check_is_capped_by_rows_times_columns_and_says_so(monkeypatch):
    from automl.data import _profile

    monkeypatch.setattr(_profile, "MAX_CELLS", 500 * 10)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=600)
    frame = pd.DataFrame(rng.normal(size=(600, 30)), columns=[f"f{i}" for i in range(30)]).assign(y=y)
    frame["f29"] = y  # past the cap: not checked
    profile = profile_table(frame, "y", "binary")
    assert _leaks(profile) == set()
    assert any("the last 20 candidate columns were not checked for leakage" in w for w in profile.warnings)


def test_a_wide_numeric_table_infers_the_same_schema_column_by_column():
    """infer_schema's batch path for plain numeric columns says exactly what infer_column says."""
    from dataclasses import asdict

    from automl.data import infer_schema
    from automl.data._schema import infer_column

    rng = np.random.default_rng(0)
    n, columns = 300, {}
    for j in range(160):
        v = [rng.normal(size=n), np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),
             rng.integers(0, 5, n), np.arange(n), rng.integers(0, 2, n), np.full(n, 3.0),
             np.where(rng.random(n) < 0.1, np.inf, rng.normal(size=n)), rng.integers(-999, 999, n).astype(np.int32)]
        columns[f"x{j}"] = v[j % 8]
    frame = pd.DataFrame(columns).assign(s=rng.choice(["a", "b"], n))
    assert [asdict(c) for c in infer_schema(frame).columns] == [asdict(infer_column(frame[c])) for c in frame]
