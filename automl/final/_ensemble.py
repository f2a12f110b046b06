"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold predictions.

The search keeps the out-of-fold predictions of its best trials; here we add,
with replacement, the model that most improves the metric of the averaged
predictions. The result is kept only if it beats the best single model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from automl.metrics import Metric, Predictions, predictions_from_proba


class WeightedEnsemble(BaseEstimator):
    """A weighted average of fitted Pipelines; predicts on raw rows like each of them."""

    def __init__(self, estimators: list | None = None, weights: list[float] | None = None,
                 task: str = "binary", target_range: tuple[float, float] | None = None) -> None:
        self.estimators = estimators
        self.weights = weights
        self.task = task
        self.target_range = target_range  # regression: predictions are kept inside it (see clip_to_range)

    def fit(self, X, y):
        """Members are fitted by the search; fitting here refits each on (X, y)."""
        for est in self.estimators:
            est.fit(X, y)
        return self._set_fitted()

    def _set_fitted(self) -> WeightedEnsemble:
        self.estimators_ = list(self.estimators)
        w = np.asarray(self.weights, dtype=float)
        self.weights_ = (w / w.sum()).tolist()
        if self.task != "regression":
            self.classes_ = self.estimators_[0].classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        return sum(w * est.predict_proba(X) for w, est in zip(self.weights_, self.estimators_))

    def predict(self, X) -> np.ndarray:
        if self.task == "regression":
            return clip_to_range(sum(w * est.predict(X) for w, est in zip(self.weights_, self.estimators_)),
                                 self.target_range)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


RANGE_MARGIN = 0.1  # of the training target's span, allowed beyond its minimum and maximum


def target_range(y: np.ndarray) -> tuple[float, float]:
    """The span a blended regression may predict in: the training targets' range, widened a little.

    A linear member extrapolates without bound on rows outside the training data (ames: a ridge with 44% of
    the weight predicted far above any sale price for the largest houses); the tree members never leave the
    range. Keeping the blend inside it costs nothing where the members agree.
    """
    lo, hi = float(np.min(y)), float(np.max(y))
    margin = RANGE_MARGIN * (hi - lo)
    return lo - margin, hi + margin


def clip_to_range(pred: np.ndarray, span: tuple[float, float] | None) -> np.ndarray:
    return pred if span is None else np.clip(pred, span[0], span[1])


@dataclass
class Selection:
    members: list[int]  # indices into the candidates
    weights: list[float]
    score: float


def greedy_selection(oof: list[np.ndarray], y_true: np.ndarray, metric: Metric, task: str,
                     classes: list | None = None, positive: object = None, rounds: int = 25,
                     span: tuple[float, float] | None = None) -> Selection:
    """Pick members (with replacement) that most improve ``metric`` on the averaged OOF predictions
    (a regression blend clipped to ``span``, as the shipped ensemble clips it)."""
    counts = np.zeros(len(oof), dtype=int)
    running = None
    best_score, best_counts = None, counts.copy()
    sign = 1.0 if metric.greater_is_better else -1.0
    for _ in range(rounds):
        scores = []
        for pred in oof:
            n = counts.sum()
            blend = pred if running is None else (running * n + pred) / (n + 1)
            scores.append(_score(blend, y_true, metric, task, classes, positive, span))
        i = int(np.argmax(sign * np.asarray(scores)))
        n = counts.sum()
        running = oof[i] if running is None else (running * n + oof[i]) / (n + 1)
        counts[i] += 1
        if best_score is None or sign * scores[i] > sign * best_score:
            best_score, best_counts = scores[i], counts.copy()
    members = [int(i) for i in np.flatnonzero(best_counts)]
    weights = [float(best_counts[i] / best_counts.sum()) for i in members]
    return Selection(members=members, weights=weights, score=float(best_score))


def _score(pred: np.ndarray, y_true: np.ndarray, metric: Metric, task: str, classes, positive,
           span: tuple[float, float] | None = None) -> float:
    if task == "regression":
        return metric.score(Predictions(y_true, clip_to_range(pred, span)))
    return metric.score(predictions_from_proba(y_true, pred, classes, positive))
