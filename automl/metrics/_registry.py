"""Every metric, one entry each: what the search optimises and what the held-out report and monitoring show.

A metric scores predictions given as a :class:`Predictions` (labels and, for
classification, class probabilities in ``classes`` order), so the search, the
ensemble, the held-out report and monitoring all score the same way. The point
score is scikit-learn's own function, so the numbers match what a user would
compute by hand; the bootstrap is the same quantity written over a batch of
resamples (see :mod:`automl.metrics._resample`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

from automl.errors import AutoMLError
from automl.metrics._base import BINARY, CLASSIFICATION, MULTICLASS, REGRESSION, Metric, Predictions
from automl.metrics._resample import Batch

LOG_LOSS_FLOOR = 1e-15  # probabilities are clipped here before the log


# -- scores -----------------------------------------------------------------------------------------
def _pos_proba(p: Predictions) -> np.ndarray:
    return p.proba[:, list(p.classes).index(p.positive)]


def _by_class(fn: Callable, average: str = "macro") -> Callable[[Predictions], float]:
    """A label metric about the positive class when binary, else averaged over the classes."""
    def score(p: Predictions) -> float:
        if average == "macro" and len(p.classes) == 2:
            return float(fn(p.y_true, p.y_pred, pos_label=p.positive, zero_division=0))
        return float(fn(p.y_true, p.y_pred, average=average, zero_division=0))
    return score


def _roc_auc(average: str) -> Callable[[Predictions], float]:
    def score(p: Predictions) -> float:
        if len(p.classes) == 2:
            return float(skm.roc_auc_score(p.y_true == p.positive, _pos_proba(p)))
        return float(skm.roc_auc_score(p.y_true, p.proba, multi_class="ovr", average=average, labels=p.classes))
    return score


def _log_loss(p: Predictions) -> float:
    return float(skm.log_loss(p.y_true, np.clip(p.proba, LOG_LOSS_FLOOR, 1), labels=p.classes))


def _one_class(p: Predictions) -> str | None:
    """Ranking metrics of the positive class need both it and another class among the rows."""
    truth = p.y_true == p.positive
    return "only one class is present" if truth.all() or not truth.any() else None


def _zero_targets(p: Predictions) -> str | None:
    zeros = int(np.sum(np.asarray(p.y_true, dtype=float) == 0))
    return f"{zeros} target(s) are 0, so a percentage error can't be taken" if zeros else None


# -- vectorised bootstraps that need more than a line ------------------------------------------------
def _mcc(b: Batch) -> np.ndarray:
    tp, true, predicted, total = b.tp, b.true, b.predicted, b.total
    num = tp.sum(1) * total - (predicted * true).sum(1)
    den = np.sqrt((total**2 - (predicted**2).sum(1)) * (total**2 - (true**2).sum(1)))
    return np.where(den > 0, num / den, 0.0)


def _log_loss_rows(b: Batch) -> np.ndarray:
    # sklearn's log_loss also clips at 1 - eps, so a certain right answer costs eps, not 0.
    return b.mean(-np.log(np.clip(b.rows.p_true, LOG_LOSS_FLOOR, 1 - np.finfo(float).eps)))


def _brier_rows(b: Batch) -> np.ndarray:
    r = b.rows
    return b.mean((r.proba[:, r.pos] - (r.yi == r.pos)) ** 2)


# -- the registry -----------------------------------------------------------------------------------
ONLY_MULTICLASS, ONLY_BINARY, ONLY_REGRESSION = (MULTICLASS,), (BINARY,), (REGRESSION,)
METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("accuracy", "Accuracy", True, CLASSIFICATION, lambda p: float(skm.accuracy_score(p.y_true, p.y_pred)),
           lambda b: b.tp.sum(1) / b.total, optimisable=True, quoted=True),
    Metric("balanced_accuracy", "Balanced accuracy", True, CLASSIFICATION,
           lambda p: float(skm.balanced_accuracy_score(p.y_true, p.y_pred)),
           lambda b: np.nanmean(b.recall, axis=1), optimisable=True),
    Metric("precision", "Precision", True, CLASSIFICATION, _by_class(skm.precision_score),
           lambda b: b.class_average(b.precision), macro=True),
    Metric("recall", "Recall", True, CLASSIFICATION, _by_class(skm.recall_score),
           lambda b: b.class_average(np.nan_to_num(b.recall)), macro=True),
    Metric("f1", "F1", True, CLASSIFICATION, _by_class(skm.f1_score), lambda b: b.class_average(b.f1),
           macro=True, optimisable=True),
    Metric("precision_weighted", "Precision (weighted)", True, ONLY_MULTICLASS,
           _by_class(skm.precision_score, "weighted"), lambda b: b.class_average(b.precision, weighted=True)),
    Metric("recall_weighted", "Recall (weighted)", True, ONLY_MULTICLASS, _by_class(skm.recall_score, "weighted"),
           lambda b: b.class_average(np.nan_to_num(b.recall), weighted=True)),
    Metric("f1_weighted", "F1 (weighted)", True, ONLY_MULTICLASS, _by_class(skm.f1_score, "weighted"),
           lambda b: b.class_average(b.f1, weighted=True)),
    Metric("mcc", "Matthews correlation", True, CLASSIFICATION,
           lambda p: float(skm.matthews_corrcoef(p.y_true, p.y_pred)), _mcc),
    Metric("roc_auc", "ROC AUC", True, CLASSIFICATION, _roc_auc("macro"), lambda b: b.one_vs_rest_auc(),
           needs_proba=True, macro=True, optimisable=True, quoted=True,
           undefined=lambda p: _one_class(p) if len(p.classes) == 2 else None),
    Metric("average_precision", "PR AUC (average precision)", True, ONLY_BINARY,
           lambda p: float(skm.average_precision_score(p.y_true == p.positive, _pos_proba(p))),
           lambda b: b.ranked(b.rows.pos, average_precision=True), needs_proba=True, undefined=_one_class),
    Metric("roc_auc_weighted", "ROC AUC (one-vs-rest, weighted)", True, ONLY_MULTICLASS, _roc_auc("weighted"),
           lambda b: b.one_vs_rest_auc(weighted=True), needs_proba=True),
    Metric("log_loss", "Log loss", False, CLASSIFICATION, _log_loss, _log_loss_rows, needs_proba=True,
           optimisable=True),
    Metric("brier", "Brier score", False, ONLY_BINARY,
           lambda p: float(skm.brier_score_loss(p.y_true == p.positive, _pos_proba(p))), _brier_rows,
           needs_proba=True),
    Metric("rmse", "RMSE", False, ONLY_REGRESSION, lambda p: float(skm.root_mean_squared_error(p.y_true, p.y_pred)),
           lambda b: np.sqrt(b.mean(b.rows.err**2)), optimisable=True, quoted=True),
    Metric("mae", "MAE", False, ONLY_REGRESSION, lambda p: float(skm.mean_absolute_error(p.y_true, p.y_pred)),
           lambda b: b.mean(np.abs(b.rows.err)), optimisable=True),
    Metric("r2", "R²", True, ONLY_REGRESSION, lambda p: float(skm.r2_score(p.y_true, p.y_pred)),
           lambda b: 1 - b.mean(b.rows.err**2) / b.take(b.rows.y).var(1), optimisable=True,
           undefined=lambda p: "R² needs at least two rows" if len(p.y_true) < 2 else None),
    Metric("mape", "MAPE", False, ONLY_REGRESSION,
           lambda p: float(skm.mean_absolute_percentage_error(p.y_true, p.y_pred)),
           lambda b: b.mean(np.abs(b.rows.err) / np.maximum(np.abs(b.rows.y), 1e-300)), undefined=_zero_targets),
    Metric("median_ae", "Median absolute error", False, ONLY_REGRESSION,
           lambda p: float(skm.median_absolute_error(p.y_true, p.y_pred)), lambda b: b.median(np.abs(b.rows.err))),
]}
DEFAULT_METRIC = {BINARY: "roc_auc", MULTICLASS: "log_loss", REGRESSION: "rmse"}


def metrics_for(task: str, optimise: bool = True) -> list[str]:
    """The metrics of ``task`` the search may optimise, or (``optimise=False``) every one it reports."""
    return [name for name, m in METRICS.items() if task in m.tasks and (m.optimisable or not optimise)]


def get_metric(name: str | None, task: str, optimise: bool = True) -> Metric:
    """The metric called ``name`` (or the task's default), checked against the task.

    ``optimise`` (the default) accepts only the metrics the search can optimise;
    ``optimise=False`` any metric reported for the task.
    """
    name = name or DEFAULT_METRIC[task]
    hint = f"Use one of: {', '.join(metrics_for(task, optimise))}."
    if name not in METRICS:
        raise AutoMLError(f"Unknown metric '{name}'.", hint)
    metric = METRICS[name]
    if task not in metric.tasks:
        raise AutoMLError(f"The metric '{name}' does not apply to a {task} task.", hint)
    if optimise and not metric.optimisable:
        raise AutoMLError(f"The metric '{name}' is reported on held-out rows, but the search can't optimise it.",
                          hint)
    return metric


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
