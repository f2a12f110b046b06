"""The data behind the evaluation plots: confusion matrix, ROC/PR/calibration curves, residuals.

The binary threshold and gain tables live in :mod:`automl.evaluation._threshold`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from automl.evaluation._scores import Evaluation, evaluate
from automl.evaluation._threshold import gain_table, threshold_table
from automl.metrics import BINARY, REGRESSION

MAX_CURVE_POINTS = 1000


@dataclass
class Confusion:
    """Counts of (actual, predicted) pairs; ``normalized`` divides each row by its actual-class total."""

    labels: list[str]
    counts: pd.DataFrame  # index: actual class, columns: predicted class
    normalized: pd.DataFrame


@dataclass
class EvaluationData:
    """Everything the evaluation figures are drawn from; None where a view does not apply to the task."""

    task: str
    evaluation: Evaluation
    classes: list = field(default_factory=list)
    positive: Any = None
    threshold: float | None = None
    confusion: Confusion | None = None
    roc: pd.DataFrame | None = None  # class, fpr, tpr, threshold, auc
    pr: pd.DataFrame | None = None  # class, recall, precision, threshold, ap, prevalence
    calibration: pd.DataFrame | None = None  # class, bin, low, high, mean_predicted, fraction_positive, count
    thresholds: pd.DataFrame | None = None  # see automl.threshold.threshold_table
    gain: pd.DataFrame | None = None  # see automl.threshold.gain_table
    regression: pd.DataFrame | None = None  # actual, predicted, residual


def confusion(y_true, y_pred, classes) -> Confusion:
    labels = [str(c) for c in classes]
    counts = skm.confusion_matrix(np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str), labels=labels)
    totals = counts.sum(1, keepdims=True)
    normalized = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    frame = lambda m: pd.DataFrame(m, index=pd.Index(labels, name="actual"),  # noqa: E731
                                   columns=pd.Index(labels, name="predicted"))
    return Confusion(labels, frame(counts), frame(normalized))


def _one_vs_rest(y_true, proba, classes, positive) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(class name, is-that-class, its probability): the positive class only for binary tasks."""
    y, proba = np.asarray(y_true), np.asarray(proba, dtype=float)
    chosen = [positive] if len(classes) == 2 else list(classes)
    return [(str(c), y == c, proba[:, list(classes).index(c)]) for c in chosen]


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= MAX_CURVE_POINTS:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, MAX_CURVE_POINTS).round().astype(int))
    return frame.iloc[keep]


def roc_curves(y_true, proba, classes, positive: Any = None) -> pd.DataFrame:
    parts = []
    for name, truth, score in _one_vs_rest(y_true, proba, classes, positive):
        if truth.all() or not truth.any():
            continue
        fpr, tpr, thr = skm.roc_curve(truth, score)
        parts.append(_thin(pd.DataFrame({"class": name, "fpr": fpr, "tpr": tpr, "threshold": np.minimum(thr, 1.0),
                                         "auc": skm.roc_auc_score(truth, score)})))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["class", "fpr", "tpr"])


def pr_curves(y_true, proba, classes, positive: Any = None) -> pd.DataFrame:
    parts = []
    for name, truth, score in _one_vs_rest(y_true, proba, classes, positive):
        if not truth.any():
            continue
        precision, recall, thr = skm.precision_recall_curve(truth, score, drop_intermediate=True)
        parts.append(_thin(pd.DataFrame({
            "class": name, "recall": recall, "precision": precision, "threshold": np.append(thr, np.nan),
            "ap": skm.average_precision_score(truth, score), "prevalence": truth.mean()})))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["class", "recall", "precision"])


def calibration_table(y_true, proba, classes, positive: Any = None, n_bins: int = 10) -> pd.DataFrame:
    """Reliability bins (uniform, as sklearn's calibration_curve): the positive class for binary tasks,
    the top label's confidence against its accuracy for multiclass ones. Empty bins are left out."""
    proba = np.asarray(proba, dtype=float)
    if len(classes) == 2:
        (name, truth, score), = _one_vs_rest(y_true, proba, classes, positive)
    else:
        name, score = "top label", proba.max(1)
        truth = np.asarray(classes, dtype=object)[proba.argmax(1)] == np.asarray(y_true, dtype=object)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], score)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        frame = pd.DataFrame({"class": name, "bin": np.arange(n_bins), "low": edges[:-1], "high": edges[1:],
                              "mean_predicted": np.bincount(bins, score, n_bins) / count,
                              "fraction_positive": np.bincount(bins, truth, n_bins) / count, "count": count})
    return frame[frame["count"] > 0].reset_index(drop=True)


def regression_table(y_true, y_pred) -> pd.DataFrame:
    actual, predicted = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return pd.DataFrame({"actual": actual, "predicted": predicted, "residual": actual - predicted})


def evaluation_data(y_true, y_pred, proba, classes, task: str, positive: Any = None, metric: str | None = None,
                    threshold: float | None = None, seed: int = 0, result: Evaluation | None = None) -> EvaluationData:
    """Metrics and the data of every plot that applies to ``task``; ``result``: metrics already computed
    on these rows (an experiment's stored ones), so they are not scored a second time."""
    if result is None:
        result = evaluate(y_true, y_pred, proba, classes, task, positive, metric, seed=seed)
        result.threshold = threshold
    data = EvaluationData(task, result, list(classes or []), result.positive, threshold)
    if task == REGRESSION:
        data.regression = regression_table(y_true, y_pred)
        return data
    data.confusion = confusion(y_true, y_pred, classes)
    if proba is None:
        return data
    data.roc = roc_curves(y_true, proba, classes, result.positive)
    data.pr = pr_curves(y_true, proba, classes, result.positive)
    data.calibration = calibration_table(y_true, proba, classes, result.positive)
    if task == BINARY:
        p_pos = np.asarray(proba, dtype=float)[:, list(classes).index(result.positive)]
        data.thresholds = threshold_table(y_true, p_pos, result.positive)
        data.gain = gain_table(y_true, p_pos, result.positive)
    return data
