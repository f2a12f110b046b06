"""Metrics the search can optimise: one registration per metric.

A metric scores predictions given as a :class:`Predictions` (labels and, for
classification, class probabilities in ``classes`` order), so the search, the
ensemble and the held-out report all score the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from automl.errors import AutoMLError

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


@dataclass
class Predictions:
    """What a model said about some rows."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None  # (n, n_classes) in ``classes`` order
    classes: list | None = None
    positive: object = None  # the positive class for binary metrics


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    greater_is_better: bool
    tasks: tuple[str, ...]
    score: Callable[[Predictions], float]

    @property
    def direction(self) -> str:
        return "maximize" if self.greater_is_better else "minimize"


def _pos_proba(p: Predictions) -> np.ndarray:
    return p.proba[:, list(p.classes).index(p.positive)]


def _roc_auc(p: Predictions) -> float:
    if len(p.classes) == 2:
        return float(skm.roc_auc_score(p.y_true == p.positive, _pos_proba(p)))
    return float(skm.roc_auc_score(p.y_true, p.proba, multi_class="ovr", average="macro", labels=p.classes))


def _log_loss(p: Predictions) -> float:
    return float(skm.log_loss(p.y_true, np.clip(p.proba, 1e-15, 1), labels=p.classes))


def _f1(p: Predictions) -> float:
    if len(p.classes) == 2:
        return float(skm.f1_score(p.y_true, p.y_pred, pos_label=p.positive, zero_division=0))
    return float(skm.f1_score(p.y_true, p.y_pred, average="macro", zero_division=0))


CLASSIFICATION = (BINARY, MULTICLASS)
METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("roc_auc", "ROC AUC", True, CLASSIFICATION, _roc_auc),
    Metric("log_loss", "Log loss", False, CLASSIFICATION, _log_loss),
    Metric("accuracy", "Accuracy", True, CLASSIFICATION, lambda p: float(skm.accuracy_score(p.y_true, p.y_pred))),
    Metric("balanced_accuracy", "Balanced accuracy", True, CLASSIFICATION,
           lambda p: float(skm.balanced_accuracy_score(p.y_true, p.y_pred))),
    Metric("f1", "F1", True, CLASSIFICATION, _f1),
    Metric("rmse", "RMSE", False, (REGRESSION,), lambda p: float(skm.root_mean_squared_error(p.y_true, p.y_pred))),
    Metric("mae", "MAE", False, (REGRESSION,), lambda p: float(skm.mean_absolute_error(p.y_true, p.y_pred))),
    Metric("r2", "R²", True, (REGRESSION,), lambda p: float(skm.r2_score(p.y_true, p.y_pred))),
]}
DEFAULT_METRIC = {BINARY: "roc_auc", MULTICLASS: "log_loss", REGRESSION: "rmse"}


def get_metric(name: str | None, task: str) -> Metric:
    """The metric called ``name`` (or the task's default), checked against the task."""
    name = name or DEFAULT_METRIC[task]
    if name not in METRICS:
        raise AutoMLError(f"Unknown metric '{name}'.", f"Use one of: {', '.join(metrics_for(task))}.")
    metric = METRICS[name]
    if task not in metric.tasks:
        raise AutoMLError(f"The metric '{name}' does not apply to a {task} task.",
                          f"Use one of: {', '.join(metrics_for(task))}.")
    return metric


def metrics_for(task: str) -> list[str]:
    return [name for name, m in METRICS.items() if task in m.tasks]


def predictions_from_proba(y_true: np.ndarray, proba: np.ndarray, classes: list, positive: object) -> Predictions:
    """Labels from probabilities (argmax), so every classification metric can be computed."""
    # No dtype=object here: scikit-learn can't tell the target type of an object array of ints.
    y_pred = np.asarray(classes)[np.argmax(proba, axis=1)]
    return Predictions(np.asarray(y_true), y_pred, proba, list(classes), positive)


def positive_class(y) -> object:
    """The minority class, the one binary precision/recall/F1 are about (ties: the last in order)."""
    counts = y.value_counts()
    smallest = counts.min()
    return sorted(counts[counts == smallest].index.tolist())[-1]
