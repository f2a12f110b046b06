"""SHAP explanations: additivity against each model's own output, original columns, cache, ensembles."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance as sk_permutation_importance

import automl
from automl.algorithms import ALGORITHMS
from automl.data import build_pipeline, feature_origins, load_dataset
from automl.errors import AutoMLError
from automl.experiment import Experiment
from automl.explain import (
    IMPORTANCE,
    OutputTarget,
    beeswarm_data,
    build_explainer,
    dependence_data,
    explain_experiment,
    explain_row,
    feature_colours,
    global_importance,
    load_explanation,
    make_explainer,
    permutation_importance,
)
from automl.explain import _explain as explain_mod
from automl.final import WeightedEnsemble

ROOT = Path(__file__).resolve().parents[2]
CREDIT = ROOT / "tests" / "fixtures" / "credit-g.csv"
TITANIC = ROOT / "automl" / "data" / "samples" / "titanic.csv"
CARS = ROOT / "automl" / "data" / "samples" / "car-evaluation.csv"


def dated_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Regression with a date column, a category, and an x*z interaction (w is noise)."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    x, z, w = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    cat = rng.choice(["red", "green", "blue"], n)
    y = 3 * x + 2 * x * z + 0.5 * day.month.to_numpy() + np.select([cat == "red", cat == "green"], [2.0, -1.0], 0.0)
    return pd.DataFrame({"day": day.strftime("%Y-%m-%d"), "x": x, "z": z, "w": w, "colour": cat,
                         "y": y + rng.normal(scale=0.1, size=n)})


def fit(data, target: str, algorithm: str, tmp_path_factory, trials: int = 1) -> Experiment:
    ws = tmp_path_factory.mktemp(f"ws-{algorithm}")
    return automl.fit(data, target, trials=trials, seed=0, workspace=ws, ensemble=False, algorithms=[algorithm])


@pytest.fixture(scope="module")
def credit_lgbm(tmp_path_factory) -> Experiment:
    return fit(CREDIT, "class", "lightgbm", tmp_path_factory, trials=2)


@pytest.fixture(scope="module")
def titanic_logistic(tmp_path_factory) -> Experiment:
    return fit(TITANIC, "Survived", "logistic_regression", tmp_path_factory)


@pytest.fixture(scope="module")
def dated_lgbm(tmp_path_factory) -> Experiment:
    return fit(dated_frame(), "y", "lightgbm", tmp_path_factory)


def transformed(model, rows: pd.DataFrame) -> np.ndarray:
    return np.asarray(model[:-1].transform(rows), dtype=float)


def test_lightgbm_values_sum_to_log_odds_of_the_positive_class(credit_lgbm):
    result = explain_experiment(credit_lgbm, max_rows=300)
    model = credit_lgbm.load_model()
    assert credit_lgbm.meta["positive_class"] == "bad" == model.classes_[0]
    margin_good = model[-1].predict(transformed(model, result.data), raw_score=True)
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, -margin_good, atol=1e-6)
    assert result.output == "log-odds of class 'bad'" and result.explainer.startswith("TreeSHAP (LightGBM")
    assert (result.n_rows_used, result.n_rows_total) == (300, credit_lgbm.meta["rows"]["train"])
    assert result.features == credit_lgbm.schema.features
    contrib = model[-1].predict(transformed(model, result.data), pred_contrib=True)[:, :-1]
    by_origin = pd.DataFrame(-contrib).T.groupby(feature_origins(model)).sum().T  # LightGBM's own TreeSHAP
    np.testing.assert_allclose(result.values, by_origin[result.features].to_numpy(), atol=1e-9)


@pytest.mark.parametrize("algorithm, params", [("random_forest", {"n_estimators": 40}),
                                               ("hist_gradient_boosting", {"max_iter": 40})])
def test_sklearn_tree_values_sum_to_the_model_output(algorithm, params):
    data = load_dataset(TITANIC, "Survived")  # titanic has missing ages: the trees' NaN branches are used
    algo = ALGORITHMS[algorithm]
    assert algo.explainer == "tree"
    model = build_pipeline(data.schema, algo.make(params, "binary", 0), algo.style, "binary").fit(data.X, data.y)
    target = OutputTarget("binary", tuple(str(c) for c in model.classes_), 1, "1")
    explainer = build_explainer(model, algo.explainer, data.schema.features, target, data.X)
    rows = data.X[data.schema.features].sample(150, random_state=0)
    values, base = explainer.explain(rows)
    assert explainer.name.startswith("TreeSHAP (shap TreeExplainer") and rows["Age"].isna().any()
    if algorithm == "random_forest":  # forests are explained as probabilities
        expected, space = model.predict_proba(rows)[:, 1], "probability"
    else:  # shap 0.51's TreeExplainer reads HistGradientBoosting too, in log-odds
        expected, space = model.decision_function(rows), "log-odds"
    assert explainer.output.startswith(space)
    np.testing.assert_allclose(values.sum(axis=1) + base, expected, atol=1e-6)


def test_linear_values_are_summed_back_to_original_columns(titanic_logistic):
    exp = titanic_logistic
    result = explain_experiment(exp)
    model = exp.load_model()
    assert len(feature_origins(model)) > len(exp.schema.features)  # one-hot + missing indicators were expanded
    assert result.features == exp.schema.features and result.values.shape == (result.n_rows_used, len(result.features))
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, model.decision_function(result.data),
                               atol=1e-6)
    # Hand-computed interventional SHAP of a linear model: coef * (z - mean z), summed per original column.
    train = exp.train_frame()[exp.schema.features]
    Z, Z_bg = transformed(model, result.data), transformed(model, train)
    phi = model[-1].coef_[0] * (Z - Z_bg.mean(axis=0))
    by_origin = pd.DataFrame(phi).T.groupby(feature_origins(model)).sum().T[result.features].to_numpy()
    np.testing.assert_allclose(result.values, by_origin, atol=1e-9)


@pytest.mark.parametrize("algorithm", ["ridge", "lightgbm"])
def test_date_parts_and_categories_regression(algorithm, tmp_path_factory, dated_lgbm):
    exp = dated_lgbm if algorithm == "lightgbm" else fit(dated_frame(), "y", algorithm, tmp_path_factory)
    assert exp.schema["day"].kind == "datetime"
    result = explain_experiment(exp)
    model = exp.load_model()
    assert result.features == ["day", "x", "z", "w", "colour"] == exp.schema.features
    assert result.output == "predicted value of 'y'" and result.cls is None
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, model.predict(result.data), atol=1e-6)
    top = global_importance(result)["feature"].tolist()
    assert top[0] == "x" and top[-1] == "w"


def test_cache_is_used_and_importance_file_written(credit_lgbm, monkeypatch):
    first = explain_experiment(credit_lgbm, max_rows=200, seed=3)
    cached_files = sorted(credit_lgbm.file("explain").glob("shap_bad-*"))
    assert [p.suffix for p in cached_files] == [".json", ".npz", ".parquet"]
    stamps = [p.stat().st_mtime_ns for p in cached_files]

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the explainer was rebuilt although the cache matches")

    monkeypatch.setattr(explain_mod, "make_explainer", no_rebuild)
    second = explain_experiment(credit_lgbm, max_rows=200, seed=3)
    assert second.from_cache and not first.from_cache
    np.testing.assert_array_equal(first.values, second.values)
    assert second.base_value == first.base_value and second.output == first.output
    pd.testing.assert_frame_equal(first.data.reset_index(drop=True), second.data)
    assert [p.stat().st_mtime_ns for p in cached_files] == stamps
    assert load_explanation(credit_lgbm).values.shape == first.values.shape
    shares = credit_lgbm.read_json(IMPORTANCE)
    assert list(shares) == global_importance(first)["feature"].tolist()
    assert set(shares) == set(credit_lgbm.schema.features) and abs(sum(shares.values()) - 1) < 1e-9
    with pytest.raises(AssertionError, match="rebuilt"):  # other arguments do not match the cache
        explain_experiment(credit_lgbm, max_rows=201, seed=3)


def test_new_row_typed_in_a_form(credit_lgbm):
    model = credit_lgbm.load_model()
    row = credit_lgbm.train_frame()[credit_lgbm.schema.features].iloc[[5]].copy()
    row["credit_amount"], row["purpose"], row["age"] = 12345, "spaceship", "41"  # unseen category, text number
    local = explain_row(credit_lgbm, row)
    margin_good = model[-1].predict(transformed(model, row), raw_score=True)[0]
    assert local.prediction == pytest.approx(-margin_good, abs=1e-6)
    assert local.base_value + local.values.sum() == pytest.approx(local.prediction)
    assert local.predicted == model.predict(row)[0] and local.raw["purpose"] == "spaceship"
    with pytest.raises(AutoMLError, match="lacks"):
        explain_row(credit_lgbm, row.drop(columns=["age"]))


def test_multiclass_explains_the_most_frequent_class_by_default(tmp_path_factory):
    exp = fit(CARS, "class", "lightgbm", tmp_path_factory)
    model = exp.load_model()
    train_y = exp.train_frame()["class"]
    default = explain_experiment(exp, max_rows=200)
    assert default.cls == train_y.value_counts().idxmax() == "unacc"
    chosen = explain_experiment(exp, cls="good", max_rows=200)
    raw = model[-1].predict(transformed(model, chosen.data), raw_score=True)
    good = list(model.classes_).index("good")
    np.testing.assert_allclose(chosen.values.sum(axis=1) + chosen.base_value, raw[:, good], atol=1e-6)
    assert "class 'good'" in chosen.output and not np.allclose(chosen.values, default.values)
    with pytest.raises(AutoMLError, match="not one of the classes"):
        explain_experiment(exp, cls="excellent")


def test_weighted_ensemble_is_explained_member_by_member(titanic_logistic, tmp_path):
    exp_dir = tmp_path / titanic_logistic.id
    shutil.copytree(titanic_logistic.path, exp_dir, ignore=shutil.ignore_patterns("explain"))
    exp = Experiment(exp_dir)
    train = exp.train_frame()
    X, y = train[exp.schema.features], train["Survived"]
    members = [build_pipeline(exp.schema, ALGORITHMS[name].make({}, "binary", 0), ALGORITHMS[name].style,
                              "binary").fit(X, y) for name in ("lightgbm", "logistic_regression")]
    ensemble = WeightedEnsemble(members, [0.6, 0.4], "binary")._set_fitted()
    exp.save_model(ensemble)
    exp.update(model={"kind": "ensemble", "algorithm": "ensemble"})
    result = explain_experiment(exp, max_rows=20, time_budget=None)
    assert result.explainer.startswith("per member") and result.output == "probability of class '1'"
    assert "TreeSHAP (LightGBM" in result.explainer and "LinearExplainer" in result.explainer
    assert result.features == exp.schema.features and result.n_rows_used == 20
    assert np.isfinite(result.values).all() and (np.abs(result.values).sum(axis=0) > 0).all()
    proba = ensemble.predict_proba(result.data)[:, 1]
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, proba, atol=1e-9)
    explainer = make_explainer(exp)
    row = X.iloc[[0]].assign(Sex="unknown", Age=np.nan)
    local = explain_row(exp, row, explainer=explainer)
    assert local.prediction == pytest.approx(ensemble.predict_proba(row)[0, 1], abs=1e-9)


def test_knn_regression_goes_model_agnostic_over_dates_and_categories():
    frame = dated_frame(n=300)
    data = automl.prepare_dataset(frame, "y")
    algo = ALGORITHMS["knn"]
    assert algo.explainer == "kernel"
    model = build_pipeline(data.schema, algo.make({"n_neighbors": 7}, "regression", 0), algo.style,
                           "regression").fit(data.X, data.y)
    target = OutputTarget("regression", (), None, "y")
    explainer = build_explainer(model, algo.explainer, data.schema.features, target, data.X.iloc[100:])
    assert explainer.coded.fast and explainer.output == "predicted value of 'y'"
    rows = data.X[data.schema.features].iloc[:8]
    values, base = explainer.explain(rows)
    assert values.shape == (8, 5)
    np.testing.assert_allclose(values.sum(axis=1) + base, model.predict(rows), atol=1e-8)
    np.testing.assert_allclose(base, model.predict(data.X.iloc[100:200]).mean(), atol=1e-8)  # E[f] over background


def test_beeswarm_colours_and_dependence_interaction(dated_lgbm):
    result = explain_experiment(dated_lgbm)
    colours = feature_colours(result)
    x = result.data["x"].to_numpy()
    inner = (x > np.percentile(x, 5)) & (x < np.percentile(x, 95))
    assert pd.Series(x[inner]).corr(pd.Series(colours["x"].to_numpy()[inner]), method="spearman") == pytest.approx(1.0)
    assert colours.min().min() >= 0 and colours.max().max() <= 1
    j = result.features.index("colour")
    means = pd.Series(result.values[:, j]).groupby(result.data["colour"].to_numpy()).mean()
    assert colours["colour"][result.data["colour"] == means.idxmax()].eq(1.0).all()
    assert colours["colour"][result.data["colour"] == means.idxmin()].eq(0.0).all()
    swarm = beeswarm_data(result, top=3, max_points=100)
    assert len(swarm) == 300 and swarm.groupby("feature").size().eq(100).all()
    dep = dependence_data(result, "x")
    assert dep.interaction == "z"  # y has a 2*x*z term; w is noise
    assert len(dep.x) == len(dep.shap) == result.n_rows_used


def test_permutation_importance_matches_sklearn(credit_lgbm):
    perm = permutation_importance(credit_lgbm, n_repeats=5, seed=0)
    hold = credit_lgbm.holdout()
    X, y = hold[credit_lgbm.schema.features], hold["class"]
    # roc_auc of P(good) for 'good' equals roc_auc of P(bad) for 'bad' (our positive class).
    expected = sk_permutation_importance(credit_lgbm.load_model(), X, y, scoring="roc_auc", n_repeats=5,
                                         random_state=0)
    table = perm.table.set_index("feature").loc[credit_lgbm.schema.features]
    np.testing.assert_allclose(table["importance_mean"], expected.importances_mean, atol=1e-12)
    np.testing.assert_allclose(table["importance_std"], expected.importances_std, atol=1e-12)
    assert perm.metric == "roc_auc" and perm.n_rows_used == len(hold)
    # The shipped model was refit on all rows, these included: the baseline is above the held-out score (that of
    # the model fitted without them), and the result says so.
    assert credit_lgbm.record.model.saw_holdout and perm.seen_by_model
    assert perm.baseline > credit_lgbm.meta["holdout"]["roc_auc"]
    again = permutation_importance(credit_lgbm, n_repeats=5, seed=0)
    assert again.from_cache and again.table.equals(perm.table)
