"""A chosen decision threshold, saved inside the model so every consumer honours it.

Binary models predict the positive class when its probability is at least
0.5 (argmax). A user who prefers more recall (or more precision) picks another
threshold on the Results page; :class:`ThresholdClassifier` keeps that choice
with the fitted model, so the saved file still predicts on raw rows and the
CLI, the REST server and the report all apply the same rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from automl.errors import AutoMLError
from automl.evaluation._stored import store_evaluation
from automl.experiment import record_change

__all__ = ["ThresholdClassifier", "apply_threshold", "base_model", "gain_table", "save_threshold", "threshold_table"]


class ThresholdClassifier(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier whose ``predict`` uses ``threshold`` on the positive class.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba`` and ``classes_`` (a Pipeline or an ensemble).
    threshold : float in [0, 1]; rows with P(positive) >= threshold are predicted positive.
    positive : the positive class label (one of ``estimator.classes_``).
    """

    def __init__(self, estimator: Any = None, threshold: float = 0.5, positive: Any = None) -> None:
        self.estimator = estimator
        self.threshold = threshold
        self.positive = positive

    def fit(self, X, y) -> ThresholdClassifier:
        """Refit a clone of ``estimator`` on (X, y), keeping the threshold."""
        self.estimator = clone(self.estimator).fit(X, y)
        return self._set_fitted()

    def _set_fitted(self) -> ThresholdClassifier:
        """Wrap an already fitted estimator without refitting it."""
        classes = list(self.estimator.classes_)
        if len(classes) != 2:
            raise AutoMLError(f"A decision threshold needs a binary model; this one has {len(classes)} classes.",
                              "Use thresholds only on binary (two-class) experiments.")
        if self.positive not in classes:
            raise AutoMLError(f"The positive class {self.positive!r} is not one of the model's classes {classes}.",
                              "Pass one of the model's classes as the positive class.")
        _check_threshold(self.threshold)
        self.estimator_ = self.estimator
        self.classes_ = np.asarray(self.estimator.classes_)
        self.positive_index_ = classes.index(self.positive)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        p_pos = self.predict_proba(X)[:, self.positive_index_]
        negative = self.classes_[1 - self.positive_index_]
        return np.where(p_pos >= self.threshold, self.classes_[self.positive_index_], negative)


def _check_threshold(threshold: float) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise AutoMLError(f"The decision threshold must be between 0 and 1. Got {threshold!r} instead.",
                          "Pick a probability such as 0.3 (more positives) or 0.7 (fewer).")
    return value


def base_model(model: Any) -> Any:
    """The model inside a :class:`ThresholdClassifier` (or the model itself): what SHAP and ONNX need."""
    return model.estimator_ if isinstance(model, ThresholdClassifier) else model


def apply_threshold(model: Any, threshold: float | None, positive: Any) -> Any:
    """``model`` predicting ``positive`` when P(positive) >= ``threshold``; ``None`` removes the threshold.

    An already wrapped model is unwrapped first, so thresholds never nest.
    """
    inner = base_model(model)
    if threshold is None:
        return inner
    return ThresholdClassifier(inner, _check_threshold(threshold), positive)._set_fitted()


def save_threshold(experiment: Any, threshold: float | None, by: str | None = None) -> Any:
    """Rewrite the experiment's model file with ``threshold`` applied and record it in experiment.json.

    The stored held-out figures are scored again at once, so every view changes together.
    Returns the saved model. ``None`` restores the plain argmax rule.
    """

    if experiment.task != "binary":
        raise AutoMLError(f"A decision threshold applies to binary experiments; this one is {experiment.task}.",
                          "Use the class probabilities directly, or train a binary experiment.")
    positive = experiment.record.positive_class
    model = apply_threshold(experiment.load_model(), threshold, positive)
    experiment.save_model(model)
    experiment.update(threshold=None if threshold is None else float(threshold))
    store_evaluation(experiment)
    record_change(experiment.path, by, "threshold",
                  "back to the default rule" if threshold is None else f"set to {float(threshold):.2f}")
    return model


def threshold_table(y_true, p_pos, positive: Any, steps: int = 101) -> pd.DataFrame:
    """Precision, recall, F1 and the share predicted positive at thresholds 0..1.

    A row at threshold t counts rows with P(positive) >= t as positive (the
    rule :class:`ThresholdClassifier` applies). Precision is NaN where nothing
    is predicted positive.
    """
    truth = np.asarray(y_true, dtype=object) == positive
    p = np.asarray(p_pos, dtype=float)
    thresholds = np.linspace(0.0, 1.0, steps)
    n, n_pos = len(p), int(truth.sum())
    predicted = n - np.searchsorted(np.sort(p), thresholds, side="left")
    tp = n_pos - np.searchsorted(np.sort(p[truth]), thresholds, side="left")
    fp, fn = predicted - tp, n_pos - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = tp / n_pos if n_pos else np.full(steps, np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    return pd.DataFrame({"threshold": thresholds, "precision": precision, "recall": recall, "f1": f1,
                         "share_positive": predicted / max(n, 1), "tp": tp, "fp": fp, "fn": fn,
                         "tn": n - n_pos - fp})


def gain_table(y_true, p_pos, positive: Any, points: int = 100) -> pd.DataFrame:
    """Cumulative gain and lift: targeting the top share of rows by P(positive), what share of positives is hit.

    ``lift`` is that share divided by what random targeting would hit; ``perfect``
    is the best any model could do. Ties keep row order (stable sort).
    """
    truth = np.asarray(y_true, dtype=object) == positive
    order = np.argsort(-np.asarray(p_pos, dtype=float), kind="stable")
    hits = np.concatenate([[0], np.cumsum(truth[order])])
    share = np.linspace(0.0, 1.0, points + 1)
    n, n_pos = len(truth), max(int(truth.sum()), 1)
    gain = hits[np.round(share * n).astype(int)] / n_pos
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(share > 0, gain / share, np.nan)
    return pd.DataFrame({"share_targeted": share, "gain": gain, "lift": lift, "random": share,
                         "perfect": np.minimum(share * n / n_pos, 1.0)})
