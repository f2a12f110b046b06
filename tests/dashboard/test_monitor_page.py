"""The Monitor page for a regression experiment: the task's own wording and every metric Results shows."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, SAMPLES
from streamlit.testing.v1 import AppTest

from automl.metrics import METRICS, metrics_for

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def regression_exp(tmp_path_factory):
    import automl

    ws = tmp_path_factory.mktemp("ws-ames")
    return automl.fit(SAMPLES / "ames-house-prices.csv", "SalePrice", trials=2, seed=0, workspace=ws, name="ames",
                      algorithms=["ridge"], ensemble=False)


def _monitor_with(exp, live: pd.DataFrame, monkeypatch) -> AppTest:
    monkeypatch.setenv("AUTOML_WORKSPACE", str(exp.path.parent))
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["experiment"] = exp.id
    at.run()
    at.switch_page("app_pages/monitor.py")
    at.run()
    at.file_uploader(key=f"mon_up_{exp.id}").upload("live.csv", live.to_csv(index=False).encode(), "text/csv")
    at.run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.info, *at.warning, *at.success, *at.markdown, *at.caption)]
    return "\n".join(str(p) for p in parts)


def test_regression_monitor_with_labels_shows_every_metric_and_no_cbpe(regression_exp, monkeypatch):
    live = pd.read_csv(SAMPLES / "ames-house-prices.csv").sample(400, random_state=1)
    at = _monitor_with(regression_exp, live, monkeypatch)
    text = _texts(at)
    assert "CBPE" not in text and "probabilit" not in text.lower() and "None" not in text
    assert "400 live rows with a known outcome" in text and "drift of its predictions" in text
    frames = [d.value for d in at.dataframe]
    performance = next(f for f in frames if "held out" in f.columns)
    assert "estimated (CBPE)" not in performance.columns
    labels = [METRICS[m].label for m in metrics_for("regression", optimise=False)]
    assert performance["metric"].tolist() == labels  # MAPE and median AE included, as on Results
    shown = performance[["held out", "actual (live)"]]
    assert not shown.isin([None, "None"]).any().any() and shown.apply(lambda c: c.str.match(r"^-?\d")).all().all()
    drift = next(f for f in frames if "reason" in f.columns)
    assert drift["reason"].str.match(r"^(drifted|no drift): ").all()


def test_regression_monitor_without_labels_says_what_it_shows_instead(regression_exp, monkeypatch):
    live = pd.read_csv(SAMPLES / "ames-house-prices.csv").sample(300, random_state=2).drop(columns="SalePrice")
    at = _monitor_with(regression_exp, live, monkeypatch)
    text = _texts(at)
    assert "CBPE" not in text and "None" not in text
    assert "a regression model's error can't be estimated" in text
    assert not any("held out" in d.value.columns for d in at.dataframe)
