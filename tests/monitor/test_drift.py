"""Drift tests against scipy and hand-computed values; false alarms and shifts on real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from automl.data import load_dataset
from automl.errors import AutoMLError
from automl.experiment import Workspace
from automl.monitor import (
    CATEGORICAL,
    DRIFT_TESTS,
    NUMERIC,
    OTHER,
    QUANTILES,
    DriftSettings,
    build_reference,
    chi_square_p_value,
    jensen_shannon,
    ks_p_value,
    load_reference,
    monitor,
    psi,
    psi_band,
    save_reference,
    wasserstein,
    wasserstein_std,
)

DATA = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def wine():
    return load_dataset(DATA / "wine-quality.csv", "quality")


@pytest.fixture(scope="module")
def credit():
    return load_dataset(DATA / "credit-g.csv", "class")


# -- each test against scipy / by hand ---------------------------------------------------------
def test_ks_matches_scipy_and_ignores_missing():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 60), rng.normal(0.3, 1.2, 45)
    expected = stats.ks_2samp(a, b).pvalue
    assert ks_p_value(np.r_[a, np.nan], np.r_[b, np.nan, np.nan]) == pytest.approx(expected, rel=1e-12)


def test_wasserstein_matches_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.exponential(2.0, 300), rng.normal(1.0, 3.0, 117)
    assert wasserstein(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-10)
    assert wasserstein_std(a, b) == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a), rel=1e-10)
    assert wasserstein([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0


def test_chi_square_matches_scipy_on_values_and_counts():
    ref = ["a"] * 40 + ["b"] * 35 + ["c"] * 25 + ["e"] * 12
    cur = ["a"] * 20 + ["b"] * 30 + ["c"] * 30 + ["d"] * 40  # "d" was never seen: a bucket of its own
    expected = stats.chi2_contingency(np.array([[40, 35, 25, 12, 0], [20, 30, 30, 0, 40]])).pvalue
    assert chi_square_p_value(np.array(ref, dtype=object), np.array(cur, dtype=object)) == pytest.approx(expected)
    counts = chi_square_p_value({"a": 40, "b": 35, "c": 25, "e": 12}, {"a": 20, "b": 30, "c": 30, "d": 40})
    assert counts == pytest.approx(expected)
    # With an OTHER bucket in the reference, unseen categories join it.
    pooled = chi_square_p_value({"a": 40, "b": 35, OTHER: 25}, {"a": 20, "b": 30, "c": 30, "d": 5})
    assert pooled == pytest.approx(stats.chi2_contingency(np.array([[40, 35, 25], [20, 30, 35]])).pvalue)


def test_chi_square_pools_sparse_buckets():
    # "d" is expected to hold 5·105/205 ≈ 2.6 live rows (< 5): it joins the smallest column, "c".
    sparse = chi_square_p_value({"a": 40, "b": 35, "c": 25}, {"a": 20, "b": 30, "c": 30, "d": 5})
    assert sparse == pytest.approx(stats.chi2_contingency(np.array([[40, 35, 25], [20, 30, 35]])).pvalue)
    # Rare categories join OTHER; the rest are tested as they are.
    rare = chi_square_p_value({"a": 300, "b": 200, "r1": 2, "r2": 1, OTHER: 40},
                              {"a": 150, "b": 100, "r1": 0, "r2": 3, "new": 4, OTHER: 10})
    assert rare == pytest.approx(stats.chi2_contingency(np.array([[300, 200, 43], [150, 100, 17]])).pvalue)


def test_jensen_shannon_matches_scipy():
    ref, cur = {"a": 10, "b": 50, "c": 40}, {"a": 30, "b": 50, "c": 15, "e": 5}
    p, q = np.array([10, 50, 40, 0]) / 100, np.array([30, 50, 15, 5]) / 100
    assert jensen_shannon(ref, cur) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-10)
    assert jensen_shannon(ref, ref) == pytest.approx(0.0, abs=1e-12)
    assert jensen_shannon({"a": 1}, {"b": 1}) == pytest.approx(1.0)


def test_psi_hand_computed():
    # 0.5→0.3, 0.3→0.3, 0.2→0.4: (0.3−0.5)·ln(0.3/0.5) + 0 + (0.4−0.2)·ln(0.4/0.2)
    assert psi({"a": 50, "b": 30, "c": 20}, {"a": 30, "b": 30, "c": 40}) == pytest.approx(
        -0.2 * np.log(0.6) + 0.2 * np.log(2.0), rel=1e-12)
    # An empty reference bin counts as a share of 1e-4 instead of 0.
    assert psi({"a": 100, "b": 0}, {"a": 90, "b": 10}) == pytest.approx(
        (0.9 - 1.0) * np.log(0.9 / 1.0) + (0.1 - 1e-4) * np.log(0.1 / 1e-4), rel=1e-9)
    assert [psi_band(v) for v in (0.05, 0.1, 0.19, 0.2, 3.0)] == [
        "stable", "moderate", "moderate", "significant", "significant"]


@pytest.mark.parametrize("name", sorted(DRIFT_TESTS))
def test_every_registered_test_tells_same_from_shifted(name):
    test = DRIFT_TESTS[name]
    rng = np.random.default_rng(3)
    if NUMERIC in test.column_kinds:
        ref, same, moved = rng.normal(0, 1, 2000), rng.normal(0, 1, 2000), rng.normal(1.0, 1, 2000)
    else:
        cats = np.array(list("abcd"), dtype=object)
        ref, same = rng.choice(cats, 2000), rng.choice(cats, 2000)
        moved = rng.choice(cats, 2000, p=[0.7, 0.1, 0.1, 0.1])
    assert not test.drifted(test(ref, same))
    assert test.drifted(test(ref, moved))
    assert test.score(test(ref, moved), test.default_threshold) > 1


def test_default_choice_follows_type_and_reference_size():
    s = DriftSettings()
    assert s.choose("x", NUMERIC, 100, 800)[0].name == "ks"
    assert s.choose("x", NUMERIC, 100, 1001)[0].name == "wasserstein"
    assert s.choose("x", NUMERIC, 5, 800)[0].name == "chi_square"  # low-cardinality numbers: as categories
    assert s.choose("x", CATEGORICAL, 30, 5000) == (DRIFT_TESTS["jensen_shannon"], 0.1)
    assert s.choose("x", CATEGORICAL, 30, 500) == (DRIFT_TESTS["chi_square"], 0.05)
    custom = DriftSettings(p_value=0.01, tests={"x": "psi"}, thresholds={"y": 0.3})
    assert custom.choose("x", NUMERIC, 100, 800) == (DRIFT_TESTS["psi"], 0.2)
    assert custom.choose("z", NUMERIC, 100, 800) == (DRIFT_TESTS["ks"], 0.01)
    assert custom.choose("y", NUMERIC, 100, 5000) == (DRIFT_TESTS["wasserstein"], 0.3)
    with pytest.raises(AutoMLError):
        DriftSettings(tests={"x": "ks"}).choose("x", CATEGORICAL, 3, 100)
    with pytest.raises(AutoMLError):
        DriftSettings(tests={"x": "t-test"})
    with pytest.raises(AutoMLError):
        DriftSettings(p_value=1.5)


def test_a_small_live_batch_gets_p_value_tests(wine):
    order = np.random.default_rng(6).permutation(len(wine.X))
    ref = build_reference(wine.X.iloc[order[:5000]], wine.schema, None, wine.task)
    small_batch = wine.X.iloc[order[5000:5300]]
    assert set(monitor(ref, small_batch).table()["test"]) == {"ks", "chi_square"}
    evidently = monitor(ref, small_batch, settings=DriftSettings(choose_by="reference")).table()
    assert set(evidently["test"]) == {"wasserstein", "jensen_shannon"}
    assert set(monitor(ref, wine.X.iloc[order[:2000]]).table()["test"]) == {"wasserstein", "jensen_shannon"}


# -- the reference -------------------------------------------------------------------------------
def test_reference_profiles_and_round_trip(wine, tmp_path):
    ref = build_reference(wine.X, wine.schema, None, wine.task, sample_rows=500, seed=4, target=wine.y)
    json.dumps(ref, allow_nan=False)
    alcohol = ref["features"]["alcohol"]
    values = wine.X["alcohol"].to_numpy()
    assert [alcohol["quantiles"][str(q)] for q in QUANTILES] == pytest.approx(np.percentile(values, QUANTILES))
    assert sum(alcohol["counts"]) == len(values) and alcohol["std"] == pytest.approx(values.std())
    assert alcohol["n_distinct"] == wine.X["alcohol"].nunique()
    kind = ref["features"]["type"]
    assert dict(zip(kind["categories"], kind["counts"])) == wine.X["type"].value_counts().to_dict()
    assert len(ref["sample"]["columns"]["alcohol"]) == 500
    again = build_reference(wine.X, wine.schema, None, wine.task, sample_rows=500, seed=4)
    other = build_reference(wine.X, wine.schema, None, wine.task, sample_rows=500, seed=5)
    assert again["sample"]["columns"]["pH"] == ref["sample"]["columns"]["pH"]
    assert other["sample"]["columns"]["pH"] != ref["sample"]["columns"]["pH"]
    exp = Workspace(tmp_path).create()
    save_reference(exp, ref)
    assert exp.file("reference_sample.parquet").exists()
    assert "columns" not in json.loads(exp.file("reference.json").read_text())["sample"]
    loaded = load_reference(exp)
    assert loaded["sample"].pop("file") == "reference_sample.parquet"
    loaded["prediction_sample"].pop("file")
    assert loaded == ref


def test_categories_are_capped_with_an_other_bucket():
    from automl.data import infer_schema
    from automl.monitor import MAX_CATEGORIES

    frame = pd.DataFrame({"city": [f"c{i % 80}" for i in range(4000)], "n": np.arange(4000) % 7})
    ref = build_reference(frame, infer_schema(frame), None, "binary")
    city = ref["features"]["city"]
    assert len(city["categories"]) == MAX_CATEGORIES and sum(city["counts"]) + city["other"] == 4000
    live = pd.DataFrame({"city": ["c1", "c79", "new-town", None] * 50, "n": [1, 2, 3, 4] * 50})
    row = monitor(ref, live).table().set_index("column").loc["city"]
    assert row["new_categories"] == ["new-town"] and row["missing_live"] == pytest.approx(0.25)


# -- acceptance on real data ----------------------------------------------------------------------
@pytest.mark.parametrize("dataset", ["wine", "credit"])
def test_random_splits_raise_few_false_alarms(dataset, request):
    ds = request.getfixturevalue(dataset)
    flagged = total = 0
    for seed in range(20):
        order = np.random.default_rng(seed).permutation(len(ds.X))
        cut = int(0.7 * len(order))
        ref = build_reference(ds.X.iloc[order[:cut]], ds.schema, None, ds.task, seed=seed)
        table = monitor(ref, ds.X.iloc[order[cut:]]).table()
        flagged += int(table["drifted"].sum())
        total += len(table)
    assert total == 20 * len(ds.schema.features)
    assert flagged / total <= 0.05


def _double_category(frame: pd.DataFrame, column: str, category: str, seed: int) -> pd.DataFrame:
    """Relabel other rows as ``category`` until its share doubles (only that column changes)."""
    out = frame.copy()
    is_cat = (out[column] == category).to_numpy()
    others = np.flatnonzero(~is_cat)
    chosen = np.random.default_rng(seed).choice(others, size=int(is_cat.sum()), replace=False)
    out.iloc[chosen, out.columns.get_loc(column)] = category
    return out


def test_shifted_copy_is_flagged_on_exactly_the_shifted_features(wine, credit):
    # Large reference (Wasserstein / Jensen–Shannon): live = held-out rows, shifted.
    order = np.random.default_rng(0).permutation(len(wine.X))
    train, live = wine.X.iloc[order[:4500]], wine.X.iloc[order[4500:]]
    ref = build_reference(train, wine.schema, None, wine.task)
    shifted = _double_category(live, "type", "red", seed=0)
    shifted["alcohol"] = shifted["alcohol"] + 0.5 * train["alcohol"].std()
    table = monitor(ref, shifted).table()
    assert set(table.loc[table.drifted, "column"]) == {"alcohol", "type"}
    assert set(table.loc[table.drifted, "test"]) == {"wasserstein", "jensen_shannon"}
    # Small reference (KS / chi²): live = a copy of the training rows, shifted.
    ref = build_reference(credit.X, credit.schema, None, credit.task)
    shifted = _double_category(credit.X, "purpose", "new car", seed=0)
    shifted["credit_amount"] = shifted["credit_amount"] + 0.5 * credit.X["credit_amount"].std()
    table = monitor(ref, shifted).table()
    assert set(table.loc[table.drifted, "column"]) == {"credit_amount", "purpose"}
    assert set(table.loc[table.drifted, "test"]) == {"ks", "chi_square"}
