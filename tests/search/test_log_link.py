"""A nonnegative skewed regression target: LightGBM also tries its Tweedie (log-link) loss, CV keeps it where it
scores better, and the model it ships still exports to ONNX and explains on the scale its trees add up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl
from automl.deploy import _export as export
from automl.explain import explain_experiment
from automl.search import load_trials
from automl.search._space import log_link_suits

AMES = Path(__file__).parents[2] / "automl" / "data" / "samples" / "ames-house-prices.csv"


def test_only_nonnegative_skewed_regression_targets_qualify():
    prices = pd.read_csv(AMES)["SalePrice"]
    assert log_link_suits(prices, "regression")
    assert not log_link_suits(prices - prices.mean(), "regression")  # negative values: no log scale
    assert not log_link_suits(pd.Series(np.random.default_rng(0).normal(100, 1, 500)), "regression")  # symmetric
    assert not log_link_suits(prices, "binary")


@pytest.fixture(scope="module")
def multiplicative(tmp_path_factory):
    """A target that is a product of its causes (like a price): the log link fits it far better."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(1200, 4)), columns=list("abcd"))
    y = np.exp(1.5 * X["a"] + X["b"] + 0.2 * rng.normal(size=len(X)))
    frame = X.assign(y=y)
    return automl.fit(frame, "y", trials=4, seed=0, algorithms=["lightgbm"], ensemble=False,
                      workspace=tmp_path_factory.mktemp("loglink"))


def test_the_tweedie_default_is_tried_second_and_wins_on_a_multiplicative_target(multiplicative):
    trials = load_trials(multiplicative.storage_url, multiplicative.id).sort_values("trial")
    assert json.loads(trials.iloc[1]["params"]).get("objective") == "tweedie"  # right after LightGBM's default
    assert multiplicative.record.best.params.get("objective") == "tweedie"


def test_the_log_link_model_exports_to_onnx_and_explains_on_the_log_scale(multiplicative):
    exp = multiplicative
    model, X = exp.load_model(), exp.holdout()[exp.schema.features]
    labels, _ = export.onnx_predict(export.export_onnx(exp), X)
    np.testing.assert_allclose(np.asarray(labels, dtype=float), model.predict(X), rtol=1e-4)
    result = explain_experiment(exp, max_rows=50)
    assert result.output == "log of the predicted value of 'y'"
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, np.log(model.predict(result.data)),
                               rtol=1e-5, atol=1e-5)
