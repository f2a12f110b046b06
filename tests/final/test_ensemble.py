"""Greedy ensemble selection over out-of-fold predictions, and the WeightedEnsemble it ships.

Real candidates: small scikit-learn pipelines cross-validated on real tables (phoneme for binary, car
evaluation for multiclass with string classes, wine quality as a regression), plus synthetic candidates
whose best blend is known by construction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, SAMPLES
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from automl.data import build_pipeline, load_dataset
from automl.final import WeightedEnsemble
from automl.final._ensemble import greedy_selection
from automl.metrics import Predictions, get_metric, metrics_for, positive_class, predictions_from_proba

TASKS = ("binary", "multiclass", "regression")


@dataclass
class Case:
    """A real table, unfitted candidate pipelines and their out-of-fold predictions."""

    task: str
    X: pd.DataFrame
    y: pd.Series
    models: list[Pipeline]
    oof: list[np.ndarray]
    classes: list | None
    positive: object

    def score(self, pred: np.ndarray, metric_name: str) -> float:
        metric = get_metric(metric_name, self.task)
        if self.task == "regression":
            return metric.score(Predictions(self.y.to_numpy(), pred))
        return metric.score(predictions_from_proba(self.y.to_numpy(), pred, self.classes, self.positive))


def _candidates(task: str) -> tuple[str, str, list]:
    if task == "binary":
        return str(DATA / "phoneme.csv"), "Class", [
            (LogisticRegression(max_iter=500), "linear"), (DecisionTreeClassifier(max_depth=4, random_state=0), "tree"),
            (KNeighborsClassifier(15), "linear"), (GaussianNB(), "linear")]
    if task == "multiclass":
        return str(SAMPLES / "car-evaluation.csv"), "class", [
            (LogisticRegression(max_iter=500), "linear"), (DecisionTreeClassifier(max_depth=5, random_state=0), "tree"),
            (KNeighborsClassifier(15), "linear"), (GaussianNB(), "linear")]
    return str(DATA / "wine-quality.csv"), "quality", [
        (Ridge(), "linear"), (DecisionTreeRegressor(max_depth=5, random_state=0), "tree"),
        (KNeighborsRegressor(15), "linear")]


_CASES: dict[str, Case] = {}


def case_for(task: str) -> Case:
    """Built once per task (a few hundred rows, five folds: about a second)."""
    if task not in _CASES:
        path, target, candidates = _candidates(task)
        d = load_dataset(path, target, task=task)
        X, y = d.X.sample(600, random_state=0), d.y
        y = y.loc[X.index]
        folds = KFold(5, shuffle=True, random_state=0) if task == "regression" else \
            StratifiedKFold(5, shuffle=True, random_state=0)
        method = "predict" if task == "regression" else "predict_proba"
        models = [build_pipeline(d.schema, est, style, task) for est, style in candidates]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            oof = [cross_val_predict(m, X, y, cv=folds, method=method) for m in models]
        classes = None if task == "regression" else sorted(y.unique().tolist())
        positive = positive_class(y) if task == "binary" else None
        _CASES[task] = Case(task, X, y, models, oof, classes, positive)
    return _CASES[task]


def _blend(oof: list[np.ndarray], members: list[int], weights: list[float]) -> np.ndarray:
    return sum(w * oof[i] for i, w in zip(members, weights))


@pytest.mark.parametrize("task,metric_name", [(t, m) for t in TASKS for m in metrics_for(t)])
def test_blend_is_never_worse_out_of_fold_than_its_best_member(task, metric_name):
    case = case_for(task)
    metric = get_metric(metric_name, task)
    sign = 1 if metric.greater_is_better else -1
    sel = greedy_selection(case.oof, case.y.to_numpy(), metric, task, case.classes, case.positive)
    singles = [case.score(p, metric_name) for p in case.oof]
    assert sign * sel.score >= sign * max(singles, key=lambda s: sign * s) - 1e-12
    # the reported score is the metric of the blend the members and weights describe
    assert sel.score == pytest.approx(case.score(_blend(case.oof, sel.members, sel.weights), metric_name), abs=1e-9)
    assert sum(sel.weights) == pytest.approx(1.0) and all(w > 0 for w in sel.weights)
    assert sel.members == sorted(set(sel.members)) and all(0 <= i < len(case.oof) for i in sel.members)


@pytest.mark.parametrize("task", TASKS)
def test_one_round_picks_the_best_single_candidate(task):
    case = case_for(task)
    metric = get_metric(None, task)
    sign = 1 if metric.greater_is_better else -1
    sel = greedy_selection(case.oof, case.y.to_numpy(), metric, task, case.classes, case.positive, rounds=1)
    singles = [case.score(p, metric.name) for p in case.oof]
    assert sel.members == [int(np.argmax(sign * np.asarray(singles)))] and sel.weights == [1.0]
    assert sel.score == pytest.approx(singles[sel.members[0]])


def _complementary(task: str, n: int = 400):
    """Two candidates that each know half the rows, and one that knows nothing: the best blend is the first two."""
    rng = np.random.default_rng(0)
    half = np.arange(n) % 2 == 0
    if task == "regression":
        y = rng.normal(size=n)
        return y, [np.where(half, y, 0.0), np.where(half, 0.0, y), rng.normal(size=n)], None, None
    k = 2 if task == "binary" else 3
    y = rng.integers(0, k, size=n)
    sure = np.full((n, k), 0.1 / (k - 1))
    sure[np.arange(n), y] = 0.9
    unsure = np.full((n, k), 1 / k)
    first = np.where(half[:, None], sure, unsure)
    second = np.where(half[:, None], unsure, sure)
    noise = rng.dirichlet(np.ones(k), size=n)
    return y, [first, second, noise], list(range(k)), (1 if task == "binary" else None)


@pytest.mark.parametrize("task,metric_name", [("binary", "roc_auc"), ("binary", "log_loss"),
                                              ("multiclass", "log_loss"), ("regression", "rmse")])
def test_greedy_adds_the_members_that_improve_and_leaves_out_the_one_that_does_not(task, metric_name):
    y, oof, classes, positive = _complementary(task)
    metric = get_metric(metric_name, task)
    sign = 1 if metric.greater_is_better else -1
    sel = greedy_selection(oof, y, metric, task, classes, positive)
    assert sel.members == [0, 1]  # the noise candidate never improved the blend
    assert sel.weights == pytest.approx([0.5, 0.5], abs=0.05)  # by symmetry; the halves differ a little
    for single in oof[:2]:
        alone = greedy_selection([single], y, metric, task, classes, positive, rounds=1).score
        assert sign * sel.score > sign * alone  # strictly better than either member on its own


def test_a_candidate_that_adds_nothing_is_left_out():
    """A copy of the best model, or a constant (which doesn't change any ranking), can't raise ROC AUC."""
    case = case_for("binary")
    best = int(np.argmax([case.score(p, "roc_auc") for p in case.oof]))
    constant = np.full_like(case.oof[best], 0.5)
    sel = greedy_selection([constant, case.oof[best], case.oof[best].copy()], case.y.to_numpy(),
                           get_metric("roc_auc", "binary"), "binary", case.classes, case.positive)
    assert sel.members == [1] and sel.weights == [1.0]
    assert sel.score == pytest.approx(case.score(case.oof[best], "roc_auc"))


def _fitted_members(case: Case, train: pd.Index) -> list[Pipeline]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [clone(m).fit(case.X.loc[train], case.y.loc[train]) for m in case.models]


@pytest.mark.parametrize("task", TASKS)
def test_weighted_ensemble_predicts_the_weighted_average_of_its_members(task):
    case = case_for(task)
    train, test = case.X.index[:450], case.X.index[450:]
    members = _fitted_members(case, train)
    raw = [3.0, 1.0, 2.0, 2.0][: len(members)]
    w = np.asarray(raw) / sum(raw)
    ensemble = WeightedEnsemble(members, raw, task)._set_fitted()  # as finalize builds it: members already fitted
    assert ensemble.weights_ == pytest.approx(w.tolist()) and sum(ensemble.weights_) == pytest.approx(1.0)
    X = case.X.loc[test]
    if task == "regression":
        expected = sum(wi * m.predict(X) for wi, m in zip(w, members))
        np.testing.assert_allclose(ensemble.predict(X), expected, rtol=1e-12)
        return
    expected = sum(wi * m.predict_proba(X) for wi, m in zip(w, members))
    proba = ensemble.predict_proba(X)
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(ensemble.classes_) == list(members[0].classes_) == case.classes
    labels = ensemble.predict(X)
    assert labels.tolist() == np.asarray(case.classes)[np.argmax(expected, axis=1)].tolist()
    assert set(labels.tolist()) <= set(case.classes)


@pytest.mark.parametrize("task", TASKS)
def test_fit_refits_every_member_on_the_rows_given(task):
    case = case_for(task)
    train, test = case.X.index[:450], case.X.index[450:]
    ensemble = WeightedEnsemble([clone(m) for m in case.models], [1.0] * len(case.models), task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ensemble.fit(case.X.loc[train], case.y.loc[train]) is ensemble
    reference = _fitted_members(case, train)
    X = case.X.loc[test]
    method = "predict" if task == "regression" else "predict_proba"
    expected = sum(getattr(m, method)(X) for m in reference) / len(reference)
    np.testing.assert_allclose(getattr(ensemble, method)(X), expected, rtol=1e-9)
