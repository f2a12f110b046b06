"""Metrics on the held-out split, per task, with a bootstrap interval on the headline.

Point metrics are scikit-learn's own functions, so the numbers match what a
user would compute by hand. The bootstrap writes each metric as a mean of
per-row values or a function of counts per code: a batch of resamples is a
matrix of row indices, so 1,000 resamples cost a few gathers and bincounts
instead of 1,000 calls. The data behind the evaluation plots (confusion
matrix, ROC/PR/calibration curves, residuals) is computed here too; the binary
threshold and gain tables live in :mod:`automl.threshold`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from automl.data import proba_column
from automl.errors import AutoMLError
from automl.evaluation._threshold import (  # noqa: F401
    ThresholdClassifier,
    apply_threshold,
    base_model,
    gain_table,
    save_threshold,
    threshold_table,
)
from automl.metrics import BINARY, DEFAULT_METRIC, MULTICLASS, REGRESSION, positive_class

__all__ = ["Evaluation", "EvaluationData", "Confusion", "evaluate", "evaluate_experiment", "bootstrap_interval",
           "weighted_metric", "classification_metrics", "regression_metrics", "per_class_table", "confusion",
           "roc_curves", "pr_curves", "calibration_table", "regression_table", "evaluation_data",
           "experiment_evaluation_data", "holdout_inputs", "ThresholdClassifier", "apply_threshold", "base_model",
           "save_threshold", "threshold_table", "gain_table", "LABELS", "LOWER_IS_BETTER"]

LABELS = {
    "accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "precision": "Precision",
    "recall": "Recall", "f1": "F1", "roc_auc": "ROC AUC", "average_precision": "PR AUC (average precision)",
    "log_loss": "Log loss", "brier": "Brier score", "mcc": "Matthews correlation",
    "precision_weighted": "Precision (weighted)", "recall_weighted": "Recall (weighted)",
    "f1_weighted": "F1 (weighted)", "roc_auc_weighted": "ROC AUC (one-vs-rest, weighted)",
    "rmse": "RMSE", "mae": "MAE", "r2": "R²", "mape": "MAPE", "median_ae": "Median absolute error",
}
MACRO = {"precision", "recall", "f1", "roc_auc"}  # averaged over classes (macro) for multiclass
LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae", "mape", "median_ae"}
CHUNK = 2_000_000  # resample-rows held in memory at once by the bootstrap


@dataclass
class Evaluation:
    """The held-out metrics of one model: numbers, per-class table and the headline's interval."""

    task: str
    metrics: dict[str, float | None]
    per_class: pd.DataFrame | None
    headline: str
    interval: tuple[float, float] | None
    notes: dict[str, str] = field(default_factory=dict)  # metric -> why it is None
    n_rows: int = 0
    positive: Any = None
    threshold: float | None = None

    def label(self, name: str) -> str:
        base = LABELS.get(name, name)
        macro = self.task == MULTICLASS and name in MACRO
        return f"{base} ({'one-vs-rest, ' if name == 'roc_auc' else ''}macro)" if macro else base

    def table(self) -> pd.DataFrame:
        """One row per metric with its label, value and (for the headline) the 95% interval."""
        rows = [{"metric": k, "label": self.label(k), "value": v, "note": self.notes.get(k, ""),
                 "low": self.interval[0] if self.interval and k == self.headline else None,
                 "high": self.interval[1] if self.interval and k == self.headline else None}
                for k, v in self.metrics.items()]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "metrics": self.metrics, "headline": self.headline,
                "interval": list(self.interval) if self.interval else None, "notes": self.notes,
                "n_rows": self.n_rows, "positive": self.positive, "threshold": self.threshold,
                "per_class": None if self.per_class is None else self.per_class.to_dict(orient="records")}


def evaluate(y_true, y_pred, proba, classes, task: str, positive: Any = None, metric: str | None = None,
             n_resamples: int = 1000, seed: int = 0) -> Evaluation:
    """Every metric of ``task`` on these predictions, and a bootstrap 95% interval on ``metric``."""
    y, pred, proba, classes = _inputs(y_true, y_pred, proba, classes, task)
    if task == BINARY and positive is None:
        positive = positive_class(pd.Series(y))
    if task == BINARY and positive not in classes:
        raise AutoMLError(f"The positive class {positive!r} is not one of the classes {classes}.",
                          "Pass one of the model's classes as the positive class.")
    if task == REGRESSION:
        values, notes, per_class = *regression_metrics(y, pred), None
    else:
        values, notes = classification_metrics(y, pred, proba, classes, positive)
        per_class = per_class_table(y, pred, classes)
    headline = metric or DEFAULT_METRIC[task]
    if headline not in values:
        raise AutoMLError(f"The metric '{headline}' is not computed for a {task} task.",
                          f"Use one of: {', '.join(values)}.")
    interval = None
    if values[headline] is not None:
        interval = bootstrap_interval(y, pred, proba, classes, task, headline, positive, n_resamples, seed)
    return Evaluation(task, values, per_class, headline, interval, notes, len(y), positive)


def _inputs(y_true, y_pred, proba, classes, task: str):
    y, pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y) != len(pred) or len(y) == 0:
        raise AutoMLError(f"Got {len(y)} true values and {len(pred)} predictions.",
                          "Evaluate on the same non-empty rows.")
    if task == REGRESSION:
        return y.astype(float), pred.astype(float), None, []
    classes = list(classes)
    unknown = sorted({str(v) for v in (*pd.unique(y), *pd.unique(pred))} - {str(c) for c in classes})
    if unknown:
        raise AutoMLError(f"The labels {unknown[:5]} are not among the model's classes {classes}.",
                          "Evaluate on rows whose target uses the classes the model was trained on.")
    return y, pred, None if proba is None else np.asarray(proba, dtype=float), classes


def classification_metrics(y, pred, proba, classes, positive) -> tuple[dict, dict]:
    """Label and probability metrics; binary ones are about ``positive``."""
    m: dict[str, float | None] = {"accuracy": skm.accuracy_score(y, pred),
                                  "balanced_accuracy": skm.balanced_accuracy_score(y, pred)}
    if len(classes) == 2:
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, pos_label=positive, average="binary",
                                                         zero_division=0)
        m.update(precision=p, recall=r, f1=f)
    else:
        for average, suffix in (("macro", ""), ("weighted", "_weighted")):
            p, r, f, _ = skm.precision_recall_fscore_support(y, pred, average=average, zero_division=0)
            m.update({f"precision{suffix}": p, f"recall{suffix}": r, f"f1{suffix}": f})
    m["mcc"] = skm.matthews_corrcoef(y, pred)
    notes: dict[str, str] = {}
    proba_names = (["roc_auc", "average_precision", "log_loss", "brier"] if len(classes) == 2
                   else ["roc_auc", "roc_auc_weighted", "log_loss"])
    for name in proba_names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m[name] = _proba_metric(name, y, proba, classes, positive)
            if not np.isfinite(m[name]):
                raise ValueError("a class is absent from the held-out rows")
        except ValueError as err:  # e.g. one class only in a tiny held-out split
            m[name], notes[name] = None, f"not defined on these rows: {err}"
    return {k: None if v is None else float(v) for k, v in m.items()}, notes


def _proba_metric(name: str, y, proba, classes, positive) -> float:
    if proba is None:
        raise ValueError("the model gives no probabilities")
    if name == "log_loss":
        return skm.log_loss(y, proba, labels=classes)
    if len(classes) > 2:
        average = "weighted" if name == "roc_auc_weighted" else "macro"
        return skm.roc_auc_score(y, proba, multi_class="ovr", average=average, labels=classes)
    truth, score = y == positive, proba[:, classes.index(positive)]
    if name == "brier":
        return skm.brier_score_loss(truth, score)
    if truth.all() or not truth.any():
        raise ValueError("only one class is present")
    return (skm.roc_auc_score if name == "roc_auc" else skm.average_precision_score)(truth, score)


def per_class_table(y, pred, classes) -> pd.DataFrame:
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    return pd.DataFrame({"class": [str(c) for c in classes], "precision": p, "recall": r, "f1": f,
                         "support": s.astype(int)})


def regression_metrics(y, pred) -> tuple[dict, dict]:
    m = {"rmse": skm.root_mean_squared_error(y, pred), "mae": skm.mean_absolute_error(y, pred),
         "r2": skm.r2_score(y, pred) if len(y) > 1 else None, "mape": None,
         "median_ae": skm.median_absolute_error(y, pred)}
    notes = {}
    zeros = int(np.sum(y == 0))
    if zeros:
        notes["mape"] = f"not defined: {zeros} held-out target(s) are 0, so a percentage error can't be taken."
    else:
        m["mape"] = skm.mean_absolute_percentage_error(y, pred)
    return {k: None if v is None else float(v) for k, v in m.items()}, notes


# -- bootstrap ------------------------------------------------------------------------------------
def bootstrap_interval(y_true, y_pred, proba=None, classes=None, task: str = REGRESSION, metric: str | None = None,
                       positive: Any = None, n_resamples: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``metric`` over rows (None when most resamples leave it undefined)."""
    y, pred, proba, classes = _inputs(y_true, y_pred, proba, classes or [], task)
    metric = metric or DEFAULT_METRIC[task]
    ctx = _Context(y, pred, proba, classes, task, positive)
    rng = np.random.default_rng(seed)
    n, block, values = len(y), max(1, CHUNK // len(y)), []
    for start in range(0, n_resamples, block):
        values.append(ctx.metric(metric, rng.integers(0, n, size=(min(block, n_resamples - start), n))))
    out = np.concatenate(values)
    out = out[np.isfinite(out)]
    if len(out) < n_resamples / 2:
        return None
    low, high = np.quantile(out, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def weighted_metric(name: str, y_true, y_pred, proba, classes, task: str, positive: Any,
                    weights: np.ndarray) -> np.ndarray:
    """``name`` on rows repeated ``weights[b, i]`` times (whole counts, equal totals), for each row b."""
    y, pred, proba, classes = _inputs(y_true, y_pred, proba, classes or [], task)
    counts = np.atleast_2d(np.asarray(weights)).astype(int)
    if len(set(counts.sum(1).tolist())) != 1:
        raise ValueError("every row of weights must add up to the same number of draws")
    draws = np.stack([np.repeat(np.arange(len(y)), row) for row in counts])
    return _Context(y, pred, proba, classes, task, positive).metric(name, draws)


class _Context:
    """Per-row quantities from which each metric of a batch of resamples follows.

    A batch is ``draws``, row indices of shape (b, m). Every metric is a mean of
    per-row values or a function of counts per code (a class, a confusion cell,
    a score value, a rank), and both are gathers from small arrays plus one
    ``bincount``: no (b, n) weight matrix, no per-resample Python loop.
    """

    def __init__(self, y, pred, proba, classes, task, positive) -> None:
        self.task, self.n = task, len(y)
        if task == REGRESSION:
            self.y, self.err = y, pred - y
            self.rank = np.empty(self.n, dtype=np.int64)
            self.rank[np.argsort(np.abs(self.err), kind="stable")] = np.arange(self.n)
            return
        k = self.k = len(classes)
        index = {str(c): i for i, c in enumerate(classes)}
        self.yi = np.array([index[str(v)] for v in y])
        self.cells = self.yi * k + np.array([index[str(v)] for v in pred])
        self.pos = classes.index(positive) if positive in classes else k - 1
        self.proba = None if proba is None else proba / proba.sum(1, keepdims=True)
        self._scores: dict[int, tuple[np.ndarray, int]] = {}

    @staticmethod
    def counts(draws: np.ndarray, codes: np.ndarray, width: int) -> np.ndarray:
        b = draws.shape[0]
        flat = (codes[draws] + np.arange(b)[:, None] * width).ravel()
        return np.bincount(flat, minlength=b * width).reshape(b, width).astype(float)

    def metric(self, name: str, draws: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.task == REGRESSION:
                return self._regression(name, draws)
            if name in ("roc_auc", "roc_auc_weighted", "average_precision", "log_loss", "brier"):
                return self._probabilistic(name, draws)
            return self._labels(name, draws)

    def _regression(self, name: str, d: np.ndarray) -> np.ndarray:
        err, y = self.err, self.y
        if name in ("rmse", "mae", "mape"):
            per_row = {"rmse": err**2, "mae": np.abs(err), "mape": np.abs(err) / np.maximum(np.abs(y), 1e-300)}
            mean = per_row[name][d].mean(1)
            return np.sqrt(mean) if name == "rmse" else mean
        if name == "r2":
            return 1 - (err**2)[d].mean(1) / y[d].var(1)
        if name == "median_ae":  # the middle value(s) of the repeated sorted errors
            cum, m = np.cumsum(self.counts(d, self.rank, self.n), axis=1), d.shape[1]
            ae = np.sort(np.abs(err))
            return (ae[np.argmax(cum >= (m - 1) // 2 + 1, axis=1)] + ae[np.argmax(cum >= m // 2 + 1, axis=1)]) / 2
        raise AutoMLError(f"No bootstrap for the metric '{name}'.", f"Use one of: {', '.join(LABELS)}.")

    def _labels(self, name: str, d: np.ndarray) -> np.ndarray:
        cm = self.counts(d, self.cells, self.k * self.k).reshape(-1, self.k, self.k)
        tp = np.diagonal(cm, axis1=1, axis2=2)
        true, predicted, total = cm.sum(2), cm.sum(1), cm.sum((1, 2))
        recall, precision = tp / true, np.nan_to_num(tp / predicted)
        f1 = np.nan_to_num(2 * tp / (true + predicted))
        if name == "accuracy":
            return tp.sum(1) / total
        if name == "balanced_accuracy":
            return np.nanmean(recall, axis=1)
        if name == "mcc":
            num = tp.sum(1) * total - (predicted * true).sum(1)
            den = np.sqrt((total**2 - (predicted**2).sum(1)) * (total**2 - (true**2).sum(1)))
            return np.where(den > 0, num / den, 0.0)
        per_class = {"precision": precision, "recall": np.nan_to_num(recall), "f1": f1}[name.split("_")[0]]
        if self.k == 2:
            return per_class[:, self.pos]
        if name.endswith("_weighted"):
            return (per_class * true).sum(1) / true.sum(1)
        present = (true + predicted) > 0
        return (per_class * present).sum(1) / present.sum(1)

    def _probabilistic(self, name: str, d: np.ndarray) -> np.ndarray:
        p = self.proba
        if name == "log_loss":
            return (-np.log(np.clip(p[np.arange(self.n), self.yi], np.finfo(p.dtype).eps, 1)))[d].mean(1)
        if name == "brier":
            return ((p[:, self.pos] - (self.yi == self.pos)) ** 2)[d].mean(1)
        if self.k == 2:
            return self._ranked(self.pos, d, name == "average_precision")
        aucs = np.column_stack([self._ranked(j, d) for j in range(self.k)])
        if name == "roc_auc_weighted":
            true = self.counts(d, self.yi, self.k)
            return np.nansum(aucs * true, 1) / np.where(np.isnan(aucs), 0, true).sum(1)
        return np.nanmean(aucs, axis=1)

    def _ranked(self, j: int, d: np.ndarray, average_precision: bool = False) -> np.ndarray:
        """ROC AUC (ties count half) or average precision of class ``j`` one-vs-rest, from counts per score."""
        if j not in self._scores:  # code: the score's rank among distinct values, shifted for negatives
            values, inverse = np.unique(self.proba[:, j], return_inverse=True)
            self._scores[j] = (inverse.ravel() + len(values) * (self.yi != j), len(values))
        codes, u = self._scores[j]
        both = self.counts(d, codes, 2 * u)
        pos, neg = both[:, :u], both[:, u:]
        n_pos = pos.sum(1)
        if average_precision:  # precision at each threshold, weighted by the recall it adds
            tp, fp = np.cumsum(pos[:, ::-1], 1), np.cumsum(neg[:, ::-1], 1)
            return np.nansum(pos[:, ::-1] * tp / (tp + fp), 1) / n_pos
        below = np.cumsum(neg, 1) - neg
        return (pos * (below + 0.5 * neg)).sum(1) / (n_pos * neg.sum(1))


# -- data behind the plots --------------------------------------------------------------------------
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
                    threshold: float | None = None, seed: int = 0) -> EvaluationData:
    """Metrics and the data of every plot that applies to ``task``."""
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


def holdout_inputs(experiment) -> dict[str, Any]:
    """The held-out rows of ``experiment`` as keyword arguments of :func:`evaluate` (threshold applied)."""
    meta, hold = experiment.meta, experiment.holdout()
    task, target, classes = meta["task"], meta["target"], list(meta.get("classes") or [])
    args = {"y_true": hold[target].to_numpy(), "y_pred": hold["prediction"].to_numpy(), "proba": None,
            "classes": classes, "task": task, "positive": meta.get("positive_class"), "metric": meta.get("metric")}
    if task != REGRESSION:
        columns = [proba_column(c) for c in classes]
        missing = [c for c in columns if c not in hold.columns]
        if missing:
            raise AutoMLError(f"The held-out file of experiment {experiment.id} lacks {', '.join(missing)}.",
                              "Train the experiment again to rebuild it.")
        args["proba"] = hold[columns].to_numpy(dtype=float)
    threshold = meta.get("threshold")
    if task == BINARY and threshold is not None:
        p_pos = args["proba"][:, classes.index(args["positive"])]
        negative = classes[1 - classes.index(args["positive"])]
        args["y_pred"] = np.where(p_pos >= threshold, args["positive"], negative).astype(args["y_true"].dtype)
    return args


def evaluate_experiment(experiment, n_resamples: int = 1000, seed: int = 0) -> Evaluation:
    """Held-out metrics of a completed experiment (at its saved decision threshold, if any)."""
    args = holdout_inputs(experiment)
    result = evaluate(**args, n_resamples=n_resamples, seed=seed)
    result.threshold = experiment.meta.get("threshold")
    return result


def experiment_evaluation_data(experiment, seed: int = 0) -> EvaluationData:
    return evaluation_data(**holdout_inputs(experiment), threshold=experiment.meta.get("threshold"), seed=seed)
