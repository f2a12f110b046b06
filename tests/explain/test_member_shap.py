"""Ensembles explained member by member: additive in the ensemble's output space, TreeSHAP for trees,
at least 1,000 rows, cached by the model fingerprint and shared with the HTML report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl
from automl.algorithms import ALGORITHMS
from automl.data import build_pipeline, load_dataset
from automl.deploy import build_report
from automl.experiment import Experiment
from automl.explain import (
    EnsembleExplainer,
    OutputTarget,
    build_explainer,
    explain_experiment,
    explanation_ready,
    load_explanation,
    make_explainer,
    member_kind,
)
from automl.explain._shap_values import TreeBackend, sampled_shap
from automl.final import WeightedEnsemble

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "automl" / "data" / "samples" / "titanic.csv"
CARS = ROOT / "automl" / "data" / "samples" / "car-evaluation.csv"
SMALL = {"lightgbm": {"n_estimators": 30}, "random_forest": {"n_estimators": 20, "max_depth": 6},
         "extra_trees": {"n_estimators": 20, "max_depth": 6}, "hist_gradient_boosting": {"max_iter": 30}}
TREES = [name for name, algo in ALGORITHMS.items() if algo.explainer == "tree"]


def members(data, task: str, names: list[str]) -> list:
    return [build_pipeline(data.schema, ALGORITHMS[n].make(SMALL.get(n, {}), task, 0), ALGORITHMS[n].style,
                           task).fit(data.X, data.y) for n in names]


def target_of(model, task: str, index: int | None) -> OutputTarget:
    if index is None:
        return OutputTarget("regression", (), None, "y")
    classes = tuple(str(c) for c in model.classes_)
    return OutputTarget(task, classes, index, classes[index])


def regression_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, z, w = rng.normal(size=(3, n))
    colour = rng.choice(["red", "green", "blue"], n)
    y = 3 * x + x * z + np.where(colour == "red", 2.0, 0.0) + rng.normal(scale=0.1, size=n)
    return pd.DataFrame({"x": x, "z": z, "w": w, "colour": colour, "y": y})


@pytest.fixture(scope="module")
def titanic():
    return load_dataset(TITANIC, "Survived")  # missing ages: the trees' NaN branches are used


@pytest.mark.parametrize("index", [1, 0])
def test_tree_ensemble_adds_up_to_its_probability(titanic, index):
    model = WeightedEnsemble(members(titanic, "binary", TREES), [0.4, 0.2, 0.25, 0.15], "binary")._set_fitted()
    target = target_of(model, "binary", index)
    explainer = build_explainer(model, "kernel", titanic.schema.features, target, titanic.X)
    assert isinstance(explainer, EnsembleExplainer)
    assert all("TreeSHAP" in m.name for m in explainer.members), [m.name for m in explainer.members]
    rows = titanic.X.sample(300, random_state=0)
    values, base = explainer.explain(rows)
    assert values.shape == (300, len(titanic.schema.features)) and explainer.output.startswith("probability")
    np.testing.assert_allclose(values.sum(axis=1) + base, model.predict_proba(rows)[:, index], atol=1e-9)
    assert "carried to probability" in explainer.name  # LightGBM and HGB explain log-odds, carried over


def test_mixed_ensemble_adds_up(titanic):
    names = ["lightgbm", "random_forest", "logistic_regression", "knn"]
    model = WeightedEnsemble(members(titanic, "binary", names), [0.4, 0.3, 0.2, 0.1], "binary")._set_fitted()
    explainer = build_explainer(model, "kernel", titanic.schema.features, target_of(model, "binary", 1), titanic.X)
    kinds = [m.name.split(" ")[0] for m in explainer.members]
    assert kinds == ["TreeSHAP", "TreeSHAP", "LinearExplainer", "Permutation"]
    rows = titanic.X.sample(40, random_state=1)
    values, base = explainer.explain(rows)
    np.testing.assert_allclose(values.sum(axis=1) + base, model.predict_proba(rows)[:, 1], atol=1e-9)
    assert (np.abs(values).sum(axis=0) > 0).sum() >= 5


def test_multiclass_ensemble_adds_up_through_the_softmax():
    data = load_dataset(CARS, "class")
    names = ["lightgbm", "hist_gradient_boosting", "random_forest", "logistic_regression"]
    model = WeightedEnsemble(members(data, "multiclass", names), [0.3, 0.3, 0.2, 0.2], "multiclass")._set_fitted()
    rows = data.X.sample(200, random_state=0)
    for index in range(len(model.classes_)):
        explainer = build_explainer(model, "kernel", data.schema.features, target_of(model, "multiclass", index),
                                    data.X)
        values, base = explainer.explain(rows)
        np.testing.assert_allclose(values.sum(axis=1) + base, model.predict_proba(rows)[:, index], atol=1e-7)


def test_regression_ensemble_adds_up_to_its_prediction():
    frame = regression_frame(600)
    data = automl.prepare_dataset(frame, "y")
    names = ["lightgbm", "extra_trees", "ridge"]
    model = WeightedEnsemble(members(data, "regression", names), [0.5, 0.3, 0.2], "regression")._set_fitted()
    explainer = build_explainer(model, "kernel", data.schema.features, target_of(model, "regression", None), data.X)
    rows = data.X.iloc[:200]
    values, base = explainer.explain(rows)
    assert explainer.output == "predicted value of 'y'"
    np.testing.assert_allclose(values.sum(axis=1) + base, model.predict(rows), atol=1e-8)


@pytest.mark.parametrize("algorithm", TREES)
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_treeshap_is_chosen_for_every_tree_algorithm(algorithm, task, titanic):
    data = titanic if task == "binary" else automl.prepare_dataset(regression_frame(300), "y")
    (member,) = members(data, task, [algorithm])
    assert member_kind(member, task) == "tree"
    index = 1 if task == "binary" else None
    explainer = build_explainer(member, "tree", data.schema.features, target_of(member, task, index), data.X)
    assert "TreeSHAP" in explainer.name and "exact" in explainer.name
    rows = data.X.iloc[:50]
    values, base = explainer.explain(rows)
    assert np.isfinite(values).all() and values.shape == (50, len(data.schema.features))


# ---- on an experiment: rows, cache, report -------------------------------------------------------------


def ensemble_of(exp: Experiment, names: list[str], weights: list[float]) -> WeightedEnsemble:
    train = exp.train_frame()
    data = automl.prepare_dataset(train, exp.target)
    fitted = members(data, exp.task, names)
    return WeightedEnsemble(fitted, weights, exp.task)._set_fitted()


@pytest.fixture(scope="module")
def ensemble_exp(tmp_path_factory) -> Experiment:
    """1,500 rows (1,200 to train on), the model replaced by a three-member ensemble."""
    ws = tmp_path_factory.mktemp("ws-member-shap")
    exp = automl.fit(regression_frame(), "y", trials=1, seed=0, workspace=ws, ensemble=False,
                     algorithms=["lightgbm"])
    exp.save_model(ensemble_of(exp, ["lightgbm", "random_forest", "ridge"], [0.5, 0.3, 0.2]))
    exp.update(model={"kind": "ensemble", "algorithm": "ensemble"})
    return exp


def cache_files(exp: Experiment) -> list[Path]:
    return sorted(exp.file("explain").glob("shap_value.*"))


def test_at_least_1000_rows_even_when_the_time_budget_is_spent(ensemble_exp):
    steps: list[tuple[float, str]] = []
    result = explain_experiment(ensemble_exp, time_budget=0.0, progress=lambda f, text: steps.append((f, text)))
    assert not result.from_cache
    assert result.n_rows_used == 1000 and result.n_rows_total == len(ensemble_exp.train_frame()) > 1000
    assert len(result.data) == 1000 and result.explainer.startswith("per member")
    model = ensemble_exp.load_model()
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, model.predict(result.data), atol=1e-8)
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(steps) >= 7  # 2 chunks x 3 members
    assert any("member 3 of 3" in text for _, text in steps)


def test_few_rows_explains_them_all(ensemble_exp):
    result = explain_experiment(ensemble_exp, max_rows=300, time_budget=0.0)
    assert result.n_rows_used == 300


def test_cache_is_reused_then_invalidated_by_a_new_model(ensemble_exp):
    first = explain_experiment(ensemble_exp)
    stamps = [p.stat().st_mtime_ns for p in cache_files(ensemble_exp)]
    assert len(stamps) == 3 and explanation_ready(ensemble_exp)
    second = explain_experiment(ensemble_exp)
    assert second.from_cache and [p.stat().st_mtime_ns for p in cache_files(ensemble_exp)] == stamps
    np.testing.assert_array_equal(first.values, second.values)
    # The report reads the very same values: nothing is rewritten, and it quotes their row count.
    report = build_report(ensemble_exp)
    assert [p.stat().st_mtime_ns for p in cache_files(ensemble_exp)] == stamps
    assert f"{first.n_rows_used:,} of {first.n_rows_total:,} training rows explained" in report
    # A new model: the cached values are stale, for the page and for the report.
    ensemble_exp.save_model(ensemble_of(ensemble_exp, ["lightgbm", "extra_trees"], [0.5, 0.5]))
    assert not explanation_ready(ensemble_exp) and load_explanation(ensemble_exp) is None
    third = explain_experiment(ensemble_exp)
    assert not third.from_cache and [p.stat().st_mtime_ns for p in cache_files(ensemble_exp)] != stamps
    assert not np.allclose(third.values, first.values)


def test_the_report_computes_what_the_page_then_reads(ensemble_exp, tmp_path):
    import shutil

    copy = Experiment(Path(shutil.copytree(ensemble_exp.path, tmp_path / ensemble_exp.id)))
    shutil.rmtree(copy.file("explain"))
    build_report(copy)  # computes and stores, the page's way
    page = explain_experiment(copy)
    assert page.from_cache and page.n_rows_used >= 1000


def test_one_row_of_an_ensemble(ensemble_exp):
    explainer = make_explainer(ensemble_exp)
    row = ensemble_exp.train_frame()[ensemble_exp.schema.features].iloc[[3]]
    values, base = explainer.explain(row, precise=True)
    assert base + values.sum() == pytest.approx(ensemble_exp.load_model().predict(row)[0], abs=1e-8)


def test_sampled_shap_is_exact_for_an_additive_model():
    """For f(x) = w.x with independent features, every feature order gives w_j (x_j - mean of background_j)."""
    rng = np.random.default_rng(3)
    X, background, w = rng.normal(size=(50, 6)), rng.normal(size=(10, 6)), rng.normal(size=6)
    values, base = sampled_shap(lambda Z: Z @ w, X, background, pairs=1, seed=0)
    np.testing.assert_allclose(values, w * (X - background.mean(axis=0)), atol=1e-12)
    assert base == pytest.approx(float((background @ w).mean()))


def test_sampled_shap_adds_up_for_an_interaction():
    rng = np.random.default_rng(4)
    X, background = rng.normal(size=(30, 4)), rng.normal(size=(8, 4))
    f = lambda Z: Z[:, 0] * Z[:, 1] + np.sin(Z[:, 2])  # noqa: E731
    values, base = sampled_shap(f, X, background, pairs=2, seed=1)
    np.testing.assert_allclose(values.sum(axis=1) + base, f(X), atol=1e-12)
    assert np.allclose(values[:, 3], 0)  # a feature the model ignores gets nothing


def test_a_slow_forest_switches_to_saabas_and_says_so(titanic, monkeypatch):
    from automl.explain import _shap_values

    monkeypatch.setattr(_shap_values, "EXACT_TREE_S_PER_1000_ROWS", 0.0)  # any forest counts as slow here
    model = members(titanic, "binary", ["random_forest"])[0]
    explainer = TreeBackend(model, titanic.schema.features, target_of(model, "binary", 1))
    rows = titanic.X.head(100)
    values, base = explainer.explain(rows)
    assert explainer.name.startswith("Saabas") and "per 1,000 rows" in explainer.name
    np.testing.assert_allclose(values.sum(axis=1) + base, model.predict_proba(rows)[:, 1], atol=1e-9)
    one, _ = explainer.explain(rows.head(1))  # a single row stays exact TreeSHAP
    assert not np.allclose(one[0], values[0])
