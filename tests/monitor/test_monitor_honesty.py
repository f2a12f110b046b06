"""The monitor says what it measured: bins that cover the live range, the test that decided and why PSI
may disagree, and the task's own performance wording and metric set."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import Ridge

from automl.data import build_pipeline, infer_schema, load_dataset
from automl.metrics import metrics_for
from automl.monitor import build_reference, monitor, psi
from automl.monitor._profile import ABOVE, BELOW, buckets
from automl.monitor._stattests import aligned_counts

SAMPLES = __import__("pathlib").Path(__file__).parents[2] / "automl" / "data" / "samples"


@pytest.fixture(scope="module")
def carats():
    """Diamonds-like: a skewed training column, and live rows shifted up, some past the training maximum."""
    rng = np.random.default_rng(0)
    carat = rng.lognormal(-0.4, 0.55, 30_000)
    train = pd.DataFrame({"carat": carat[(carat > 0.2) & (carat < 2.5)][:20_000]})
    live = pd.DataFrame({"carat": rng.lognormal(0.6, 0.3, 3000)})
    return build_reference(train, infer_schema(train), None, "regression"), train, live


def _row(reference, live):
    return monitor(reference, live).features[0]


def test_live_values_above_the_training_max_get_bins_of_their_own(carats):
    reference, train, live = carats
    top = train["carat"].max()
    beyond = float((live["carat"] > top).mean())
    assert 0.05 < beyond < 0.5
    dist = _row(reference, live)["distribution"]
    edges, ref, now = np.array(dist["edges"]), np.array(dist["reference"]), np.array(dist["live"])
    above = edges[:-1] >= top
    assert edges[-1] == pytest.approx(live["carat"].max()) and edges[0] == pytest.approx(train["carat"].min())
    assert above.sum() >= 3  # several bins past the training maximum, not one flat end bin
    assert now[above].sum() == pytest.approx(beyond) and ref[above].sum() == 0
    assert np.count_nonzero(now[above]) >= 3  # the shape of the shift beyond the range is visible
    assert dist["training_range"] == pytest.approx([train["carat"].min(), top])


def test_psi_counts_values_beyond_the_training_range_in_their_own_bin(carats):
    reference, train, _ = carats
    rng = np.random.default_rng(1)
    inside = train.sample(2000, random_state=1).reset_index(drop=True)
    moved = inside.copy()
    moved.loc[:199, "carat"] = train["carat"].max() * rng.uniform(1.1, 2.0, 200)  # 10% past the maximum
    calm, shifted = _row(reference, inside), _row(reference, moved)
    assert calm["psi_band"] == "stable"
    # Clipped into the top decile, 10% extra there would add only about 0.07; in a bin of their own, > 0.6.
    assert shifted["psi"] > 0.6 and shifted["psi_band"] == "significant"
    # The raw-value PSI bins the same way: the live values past the reference's maximum are counted apart.
    ref_counts, live_counts = aligned_counts(train["carat"].to_numpy(), moved["carat"].to_numpy())
    assert live_counts[-1] == 200 and ref_counts[-1] == 0 and ref_counts[0] == live_counts[0] == 0
    assert psi(train["carat"].to_numpy(), moved["carat"].to_numpy()) > 0.6
    labels, counts = buckets(reference["features"]["carat"])
    assert labels[-1] == ABOVE and labels[0] == BELOW and counts[0] == counts[-1] == 0


def test_reason_names_the_test_and_explains_why_psi_disagrees():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(0, 1, 5000)})
    reference = build_reference(train, infer_schema(train), None, "regression")
    # 900 live rows (≤ 1,000: the KS test), shifted by 0.2 std: significant, yet a small shift by PSI's bands.
    row = _row(reference, pd.DataFrame({"x": np.random.default_rng(1).normal(0.2, 1, 900)}))
    assert row["test"] == "ks" and row["drifted"] and row["psi_band"] == "stable"
    assert row["reason"].startswith("drifted: KS p = ")
    assert "(< 0.05) on 5,000 training and 900 live rows" in row["reason"]
    assert "PSI measures the size of the shift, the KS test its significance" in row["reason"]
    # 60 live rows of the very same distribution: PSI's noise alone reads 'moderate' or worse, KS does not flag.
    row = _row(reference, pd.DataFrame({"x": np.random.default_rng(101).normal(0, 1, 60)}))
    assert not row["drifted"] and row["psi_band"] != "stable"
    assert row["reason"].startswith("no drift: KS p = ") and "does not find the shift significant" in row["reason"]
    assert "PSI from noise alone is about 0.15" in row["reason"]
    # 5,000 live rows: the Wasserstein distance decides; 0.15 std is past its threshold, not past PSI's band.
    row = _row(reference, pd.DataFrame({"x": np.random.default_rng(1).normal(0.15, 1, 5000)}))
    assert row["test"] == "wasserstein" and row["drifted"] and row["psi_band"] == "stable"
    assert "Wasserstein (std-normalised) = 0.1" in row["reason"] and "flags a change from 0.1 on" in row["reason"]
    # When both agree there is nothing to explain.
    row = _row(reference, pd.DataFrame({"x": np.random.default_rng(2).normal(0, 1, 5000)}))
    assert row["reason"].startswith("no drift: Wasserstein") and "because" not in row["reason"]


def test_the_drift_table_puts_the_reason_beside_the_verdict(carats):
    reference, _, live = carats
    table = monitor(reference, live).table()
    assert list(table.columns[:3]) == ["column", "drifted", "reason"]
    assert table.loc[0, "reason"].startswith("drifted: ")


@pytest.fixture(scope="module")
def ames():
    ds = load_dataset(SAMPLES / "ames-house-prices.csv", "SalePrice")
    order = np.random.default_rng(2).permutation(len(ds.X))
    cut = int(0.7 * len(order))
    X, y, Xl, yl = ds.X.iloc[order[:cut]], ds.y.iloc[order[:cut]], ds.X.iloc[order[cut:]], ds.y.iloc[order[cut:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(ds.schema, Ridge(alpha=10.0), "linear", "regression").fit(X, y)
        reference = build_reference(X, ds.schema, pd.Series(model.predict(X)), "regression", target=y)
    return reference, model, Xl, yl


def test_regression_monitoring_reports_every_metric_and_no_cbpe(ames):
    reference, model, Xl, yl = ames
    report = monitor(reference, Xl.assign(SalePrice=yl), model=model, target="SalePrice", task="regression")
    rows = {r["metric"]: r for r in report.performance["rows"]}
    assert list(rows) == metrics_for("regression", optimise=False)  # the set Results shows
    pred = model.predict(Xl)
    assert rows["mape"]["actual"] == pytest.approx(skm.mean_absolute_percentage_error(yl, pred))
    assert rows["median_ae"]["actual"] == pytest.approx(skm.median_absolute_error(yl, pred))
    assert all(r["estimated"] is None for r in rows.values()) and report.performance["estimated_by"] is None
    table, caption = report.performance_table(), report.performance_caption()
    assert list(table.columns) == ["metric", "held out", "actual (live)", "note"]
    assert not table["actual (live)"].str.contains("None|not").any()
    for text in (caption, table.to_string()):
        assert "CBPE" not in text and "probabilit" not in text.lower()
    assert "prediction" in caption and "400" not in caption and f"{len(yl):,} live rows" in caption
    # Without labels: no performance table, and the caption says prediction drift is what there is.
    unlabelled = monitor(reference, Xl, model=model, task="regression")
    assert unlabelled.performance is None and unlabelled.performance_table() is None
    assert "drift of its predictions" in unlabelled.performance_caption()
    assert "CBPE" not in unlabelled.performance_caption()


def test_an_undefined_metric_says_why_instead_of_none(ames):
    reference, model, Xl, yl = ames
    zeros = yl.copy()
    zeros.iloc[:3] = 0.0
    report = monitor(reference, Xl.assign(SalePrice=zeros), model=model, target="SalePrice", task="regression",
                     holdout_scores={"rmse": 1.0})
    mape = next(r for r in report.performance["rows"] if r["metric"] == "mape")
    assert mape["actual"] is None and "3 target(s) are 0" in mape["note"]
    shown = report.performance_table().set_index("metric")
    assert shown.loc["MAPE", "actual (live)"] == "not defined (see note)"
    assert shown.loc["MAPE", "held out"] == "not stored" and shown.loc["RMSE", "held out"] == "1.0000"
    assert "None" not in shown.to_string()


def test_classification_names_cbpe_where_it_applies():
    from sklearn.ensemble import HistGradientBoostingClassifier

    ds = load_dataset(SAMPLES / "titanic.csv", "Survived")
    X, y = ds.X.iloc[:600], ds.y.iloc[:600]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(ds.schema, HistGradientBoostingClassifier(max_iter=20), "tree", "binary").fit(X, y)
        reference = build_reference(X, ds.schema, pd.DataFrame(model.predict_proba(X), columns=model.classes_),
                                    "binary", target=y)
    report = monitor(reference, ds.X.iloc[600:], model=model, task="binary")
    assert "CBPE" in report.performance_caption() and report.performance["estimated_by"] == "CBPE"
    table = report.performance_table()
    assert "estimated (CBPE)" in table.columns and "actual (live)" not in table.columns
    assert table.set_index("metric").loc["ROC AUC", "estimated (CBPE)"] != "not estimated"
