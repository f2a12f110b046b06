"""Every registered metric, on real data: scikit-learn's number, a bootstrap that rescoring confirms, a declared
direction, label and tasks, and the user's error when it is unknown or doesn't fit the task."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from conftest import DATA
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split

from automl.data import build_pipeline, load_dataset
from automl.errors import AutoMLError
from automl.metrics import (
    BINARY,
    DEFAULT_METRIC,
    METRICS,
    MULTICLASS,
    REGRESSION,
    Predictions,
    Rows,
    get_metric,
    metrics_for,
    positive_class,
)

TASKS = (BINARY, MULTICLASS, REGRESSION)
CASES = [(name, task) for name, m in METRICS.items() for task in m.tasks]


def _pos(p: Predictions) -> np.ndarray:
    return p.proba[:, p.classes.index(p.positive)]


def _averaged(fn):
    """scikit-learn's call for a label metric: about the positive class if binary, else macro-averaged."""
    return lambda p: (fn(p.y_true, p.y_pred, pos_label=p.positive) if len(p.classes) == 2
                      else fn(p.y_true, p.y_pred, average="macro", zero_division=0))


# The oracle: each metric as a user would compute it with scikit-learn, written independently of the registry.
SKLEARN = {
    "accuracy": lambda p: skm.accuracy_score(p.y_true, p.y_pred),
    "balanced_accuracy": lambda p: skm.balanced_accuracy_score(p.y_true, p.y_pred),
    "precision": _averaged(skm.precision_score),
    "recall": _averaged(skm.recall_score),
    "f1": _averaged(skm.f1_score),
    "precision_weighted": lambda p: skm.precision_score(p.y_true, p.y_pred, average="weighted", zero_division=0),
    "recall_weighted": lambda p: skm.recall_score(p.y_true, p.y_pred, average="weighted", zero_division=0),
    "f1_weighted": lambda p: skm.f1_score(p.y_true, p.y_pred, average="weighted", zero_division=0),
    "mcc": lambda p: skm.matthews_corrcoef(p.y_true, p.y_pred),
    "roc_auc": lambda p: (skm.roc_auc_score(p.y_true == p.positive, _pos(p)) if len(p.classes) == 2 else
                          skm.roc_auc_score(p.y_true, p.proba, multi_class="ovr", labels=p.classes)),
    "average_precision": lambda p: skm.average_precision_score(p.y_true, _pos(p), pos_label=p.positive),
    "roc_auc_weighted": lambda p: skm.roc_auc_score(p.y_true, p.proba, multi_class="ovr", average="weighted",
                                                    labels=p.classes),
    "log_loss": lambda p: skm.log_loss(p.y_true, p.proba, labels=p.classes),
    "brier": lambda p: skm.brier_score_loss(p.y_true, _pos(p), pos_label=p.positive),
    "rmse": lambda p: skm.root_mean_squared_error(p.y_true, p.y_pred),
    "mae": lambda p: skm.mean_absolute_error(p.y_true, p.y_pred),
    "r2": lambda p: skm.r2_score(p.y_true, p.y_pred),
    "mape": lambda p: skm.mean_absolute_percentage_error(p.y_true, p.y_pred),
    "median_ae": lambda p: skm.median_absolute_error(p.y_true, p.y_pred),
}


def _fit(path, target, estimator, task=None) -> Predictions:
    """Held-out predictions of a real pipeline fitted on part of a real table."""
    d = load_dataset(path, target, task=task)
    strat = d.y if d.task != REGRESSION else None
    X_tr, X_te, y_tr, y_te = train_test_split(d.X, d.y, test_size=0.3, random_state=0, stratify=strat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(d.schema, estimator, "linear", d.task).fit(X_tr, y_tr)
        if d.task == REGRESSION:
            return Predictions(y_te.to_numpy(dtype=float), model.predict(X_te).astype(float))
        return Predictions(y_te.to_numpy(), model.predict(X_te), model.predict_proba(X_te), list(model.classes_),
                           positive_class(d.y) if d.task == BINARY else None)


@pytest.fixture(scope="module")
def real() -> dict[str, Predictions]:
    return {BINARY: _fit(DATA / "credit-g.csv", "class", LogisticRegression(max_iter=2000)),
            MULTICLASS: _fit(DATA / "wine-quality.csv", "quality", LogisticRegression(max_iter=500)),
            REGRESSION: _fit(DATA / "wine-quality.csv", "alcohol", Ridge(), task=REGRESSION)}


def test_the_oracle_covers_every_registered_metric():
    assert set(SKLEARN) == set(METRICS)


@pytest.mark.parametrize(("name", "task"), CASES)
def test_score_equals_sklearn(name, task, real):
    p = real[task]
    assert len(p.y_true) > 250 and (task == REGRESSION or len(p.classes) == (2 if task == BINARY else 7))
    value, reason = METRICS[name].checked_score(p)
    assert reason is None
    assert value == pytest.approx(float(SKLEARN[name](p)), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("name", "task"), CASES)
def test_bootstrap_equals_the_score_recomputed_on_each_resample(name, task, real):
    p, metric = real[task], METRICS[name]
    draws = np.random.default_rng(5).integers(0, len(p.y_true), size=(4, len(p.y_true)))
    draws[0] = np.arange(len(p.y_true))  # the rows as they are: the point score itself
    vectorised = metric.resampled(Rows(p), draws)
    fallback = dataclasses.replace(metric, bootstrap=None).resampled(Rows(p), draws)  # rescored one by one
    assert metric.bootstrap is not None and vectorised.shape == fallback.shape == (4,)
    for b, rows in enumerate(draws):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            defined = metric.why_undefined(p.take(rows)) is None
            expected = float(SKLEARN[name](p.take(rows))) if defined else np.nan
        if not np.isfinite(expected):  # sklearn: undefined when a class is absent; the bootstrap averages the rest
            assert np.isnan(fallback[b]) and np.isfinite(vectorised[b]), (name, b)
            continue
        assert vectorised[b] == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, b)
        assert fallback[b] == pytest.approx(expected, rel=1e-12, abs=1e-15), (name, b)


@pytest.mark.parametrize(("name", "task"), CASES)
def test_direction_label_and_tasks_are_declared(name, task, real):
    metric = METRICS[name]
    assert metric.name == name and isinstance(metric.label, str) and metric.label.strip()
    assert metric.tasks and set(metric.tasks) <= set(TASKS)
    assert metric.direction == ("maximize" if metric.greater_is_better else "minimize")
    # The direction is right: a real model beats the same predictions given to the wrong rows.
    p = real[task]
    wrong = p.take(np.random.default_rng(0).permutation(len(p.y_true)))
    wrong = Predictions(p.y_true, wrong.y_pred, wrong.proba, p.classes, p.positive)
    model, shuffled = metric.score(p), metric.score(wrong)
    assert (model > shuffled) if metric.greater_is_better else (model < shuffled)
    macro = task == MULTICLASS and metric.macro
    assert metric.label_for(task).endswith("macro)") == macro and metric.label_for(BINARY) == metric.label


def test_each_task_has_a_default_the_search_may_optimise_and_reports_more():
    for task in TASKS:
        searched, reported = metrics_for(task), metrics_for(task, optimise=False)
        assert DEFAULT_METRIC[task] in searched and set(searched) < set(reported)
        assert get_metric(None, task).name == DEFAULT_METRIC[task]
        assert all(METRICS[m].optimisable and task in METRICS[m].tasks for m in searched)
    assert set(metrics_for(BINARY, optimise=False)) - set(metrics_for(MULTICLASS, optimise=False)) == {
        "average_precision", "brier"}


def test_unknown_or_mismatched_metrics_are_the_users_error():
    with pytest.raises(AutoMLError, match="Unknown metric 'auc'") as err:
        get_metric("auc", BINARY)
    assert "roc_auc" in err.value.fix and "rmse" not in err.value.fix
    with pytest.raises(AutoMLError, match="metric 'rmse' does not apply to a binary task") as err:
        get_metric("rmse", BINARY)
    assert "log_loss" in err.value.fix
    with pytest.raises(AutoMLError, match="metric 'mcc' is reported on held-out rows, but the search can't"):
        get_metric("mcc", MULTICLASS)
    assert get_metric("mcc", MULTICLASS, optimise=False) is METRICS["mcc"]
    with pytest.raises(AutoMLError, match="'brier' does not apply to a multiclass task"):
        get_metric("brier", MULTICLASS, optimise=False)


def test_undefined_scores_say_why(real):
    p = real[BINARY]
    only_good = p.take(np.flatnonzero(p.y_true != p.positive))
    assert METRICS["roc_auc"].checked_score(only_good) == (None, "only one class is present")
    assert METRICS["accuracy"].checked_score(only_good)[0] is not None
    no_proba = Predictions(p.y_true, p.y_pred, None, p.classes, p.positive)
    assert METRICS["log_loss"].checked_score(no_proba) == (None, "the model gives no probabilities")
    zero = Predictions(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 2.0]))
    assert METRICS["mape"].checked_score(zero)[0] is None and "1 target(s) are 0" in METRICS["mape"].why_undefined(zero)
