"""The shipped model refit on every row, the rounds early stopping found, and a regression blend kept in range.

Real tables (titanic, the Ames houses, credit-g) through ``automl.fit`` with a trial budget, so each
run is the same on every machine.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, SAMPLES
from sklearn.linear_model import Ridge

import automl
from automl.algorithms import ALGORITHMS
from automl.final import WeightedEnsemble
from automl.final._ensemble import clip_to_range, greedy_selection, target_range
from automl.metrics import get_metric
from automl.search import portfolio


def _fit(tmp_path, path, target, **options):
    return automl.fit(path, target, trials=8, seed=0, workspace=tmp_path, **options)


def test_the_shipped_model_is_refit_on_all_rows_after_the_held_out_report(tmp_path):
    exp = _fit(tmp_path / "all", SAMPLES / "titanic.csv", "Survived")
    record = exp.record
    assert record.model.trained_on == "all rows" and record.model.saw_holdout
    assert record.model.trained_rows == record.rows.train + record.rows.holdout
    assert "refit on all" in record.model.rows_text(record.rows.holdout)
    # The held-out predictions stored are those of the model fitted without those rows: the shipped model,
    # which has seen them, predicts them differently.
    hold = exp.holdout()
    shipped = exp.load_model().predict_proba(hold[record.schema.features])[:, 1]
    stored = hold[[c for c in hold.columns if c.startswith("proba_")][-1]].to_numpy()
    assert not np.allclose(shipped, stored)
    # Asked not to, it ships the training-rows model, whose predictions are the stored ones.
    same = _fit(tmp_path / "train", SAMPLES / "titanic.csv", "Survived", refit_full=False)
    assert same.record.model.trained_on == "training rows" and not same.record.model.saw_holdout
    assert same.record.model.trained_rows == same.record.rows.train
    hold = same.holdout()
    stored = hold[[c for c in hold.columns if c.startswith("proba_")][-1]].to_numpy()
    np.testing.assert_allclose(same.load_model().predict_proba(hold[record.schema.features])[:, 1], stored)


def test_given_held_out_rows_never_train_the_model(tmp_path):
    frame = pd.read_csv(DATA / "credit-g.csv")
    frame.iloc[:200].to_csv(tmp_path / "hold.csv", index=False)
    exp = automl.fit(frame.iloc[200:], "class", trials=4, seed=0, workspace=tmp_path,
                     holdout_path=str(tmp_path / "hold.csv"))
    model = exp.record.model
    assert model.trained_on == "training rows" and model.trained_rows == 800
    assert "given from outside" in model.full_refit_note
    assert "never trained it" in model.rows_text(200)


def test_lightgbm_rounds_are_found_by_early_stopping_and_refit_with_them(tmp_path):
    exp = automl.fit(SAMPLES / "ames-house-prices.csv", "SalePrice", trials=3, seed=0, workspace=tmp_path,
                     algorithms=["lightgbm"], ensemble=False, refit_full=False)
    board = exp.record.leaderboard
    rounds = [json.loads(e.params)["n_estimators"] for e in board]
    # the library default caps at 100 rounds, the portfolio's at 3000: early stopping ends both before
    assert all(1 <= r < 3000 for r in rounds) and any(r != 100 for r in rounds)
    best = exp.record.best
    assert exp.load_model()[-1].n_estimators_ == best.params["n_estimators"]


def test_the_portfolio_runs_boosting_first_and_every_family_once():
    chosen = [ALGORITHMS[n] for n in ("mlp", "ridge", "lightgbm", "random_forest")]
    order = portfolio(chosen)
    assert order[:2] == [("lightgbm", 0), ("lightgbm", 1)]
    assert sorted(order) == sorted((a.name, i) for a in chosen for i in range(len(a.defaults)))
    assert order.index(("random_forest", 0)) < order.index(("lightgbm", 2)) < order.index(("mlp", 0))


def test_a_regression_blend_stays_inside_the_training_range():
    houses = pd.read_csv(SAMPLES / "ames-house-prices.csv")
    X = houses[["GrLivArea"]].to_numpy(dtype=float)
    y = houses["SalePrice"].to_numpy(dtype=float)
    ridge = Ridge().fit(X, y)
    huge = np.array([[200_000.0], [-200_000.0]])  # far outside any house: a line extrapolates without bound
    assert ridge.predict(huge).max() > 10 * y.max()
    span = target_range(y)
    blend = WeightedEnsemble([ridge], [1.0], "regression", span)._set_fitted()
    out = blend.predict(huge)
    assert out.max() == pytest.approx(span[1]) and out.min() == pytest.approx(span[0])
    assert span[0] < y.min() and span[1] > y.max()
    np.testing.assert_allclose(blend.predict(X[:50]), ridge.predict(X[:50]))  # inside the range: untouched
    # The selection scores the clipped blend, as the shipped model predicts it.
    wild = np.where(np.arange(len(y)) % 10 == 0, 50 * y.max(), y)
    rmse = get_metric("rmse", "regression")
    clipped = greedy_selection([wild], y, rmse, "regression", span=span).score
    raw = greedy_selection([wild], y, rmse, "regression").score
    assert clipped < raw
    assert clip_to_range(np.array([1.0]), None)[0] == 1.0


def test_the_refit_on_all_rows_gives_way_to_the_clock_and_equals_the_plain_fit_when_on_time(tmp_path):
    """An optional fit watches the clock: late, the boosting stops at once (TimeUp, and the training-rows model
    ships); on time, it is the very model an unwatched fit gives; a forest is fitted as ever (in one go)."""
    from automl.algorithms import TimeUp
    from automl.data import prepare_dataset
    from automl.final._full_refit import Member, refit_all_rows
    from automl.metrics import get_metric as metric_of
    from automl.search import SearchSpace

    ds = prepare_dataset(pd.read_csv(SAMPLES / "titanic.csv"), "Survived")
    X, y = ds.X.iloc[:600], ds.y.iloc[:600]
    hold = ds.X.iloc[600:].assign(Survived=ds.y.iloc[600:])
    algos = [ALGORITHMS["lightgbm"], ALGORITHMS["random_forest"]]
    space = SearchSpace(X=X, y=y, schema=ds.schema, task=ds.task, metric=metric_of("roc_auc", ds.task),
                        algorithms=algos, classes=sorted(y.unique()), positive=1, cv_folds=3, seed=0)
    members = [Member("lightgbm", {"n_estimators": 300}, 0.6), Member("random_forest", {"n_estimators": 50}, 0.4)]
    calls = []

    def late() -> float:
        calls.append(1)
        return -1.0

    with pytest.raises(TimeUp):
        refit_all_rows(space, members[:1], X, y, hold, time_left=late)
    assert len(calls) == 1  # stopped after the first boosting round, not after 300
    watched = refit_all_rows(space, members, X, y, hold, time_left=lambda: 1e9)
    plain = refit_all_rows(space, members, X, y, hold)
    rows = hold[list(X.columns)]
    np.testing.assert_allclose(watched.predict_proba(rows), plain.predict_proba(rows))
