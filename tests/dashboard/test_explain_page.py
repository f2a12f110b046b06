"""The Explain page on an ensemble experiment: computes with progress, then renders from the stored values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

import automl
from automl.algorithms import ALGORITHMS
from automl.data import build_pipeline
from automl.explain import explanation_ready
from automl.final import WeightedEnsemble

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture()
def ensemble_ws(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=(2, 600))
    frame = pd.DataFrame({"x": x, "z": z, "colour": rng.choice(["red", "blue"], 600),
                          "y": np.where(x + z + rng.normal(scale=0.5, size=600) > 0, "yes", "no")})
    exp = automl.fit(frame, "y", trials=1, seed=0, workspace=tmp_path, ensemble=False, algorithms=["lightgbm"])
    data = automl.prepare_dataset(exp.train_frame(), "y")
    fitted = [build_pipeline(data.schema, ALGORITHMS[n].make(p, "binary", 0), ALGORITHMS[n].style, "binary")
              .fit(data.X, data.y) for n, p in [("lightgbm", {"n_estimators": 20}),
                                                 ("random_forest", {"n_estimators": 10, "max_depth": 5}),
                                                 ("logistic_regression", {})]]
    exp.save_model(WeightedEnsemble(fitted, [0.5, 0.3, 0.2], "binary")._set_fitted())
    exp.update(model={"kind": "ensemble", "algorithm": "ensemble"})
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    return exp


def test_explain_page_renders_for_an_ensemble(ensemble_ws):
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["experiment"] = ensemble_ws.id
    at.run()
    at.switch_page("app_pages/explain.py")
    at.run()
    assert not at.exception
    assert explanation_ready(ensemble_ws)  # the page stored what it computed
    captions = [c.value for c in at.caption]
    assert any("per member, weighted by the ensemble" in c and "480 training rows" in c for c in captions), captions
    assert len(at.get("plotly_chart")) >= 3
    at.run()  # a rerun reads the stored values
    assert not at.exception
