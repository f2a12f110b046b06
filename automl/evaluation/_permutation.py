"""Permutation importance: how much a metric drops when one column's values are shuffled.

One implementation for the explanation page and for monitoring. The shuffles are
scikit-learn's (``sklearn.inspection.permutation_importance`` with the same seed),
so the numbers equal its own; but every shuffled copy of the rows goes to the model
in a few large calls, because a pipeline's fixed cost per call, not the rows,
dominates on small tables.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.metrics import REGRESSION, Metric, Predictions

ROWS_PER_CALL = 300_000  # shuffled rows sent to the model at once: bounds the memory of one predict


@dataclass
class PermutationScores:
    """The metric on the rows as they are, and its drop for each shuffle of each feature."""

    features: list[str]
    metric: Metric
    baseline: float
    drops: np.ndarray  # (n_features, n_repeats); positive when shuffling the feature made the metric worse

    @property
    def mean(self) -> np.ndarray:
        return self.drops.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        return self.drops.std(axis=1)

    def as_dict(self) -> dict[str, float]:
        """{feature: mean drop}."""
        return {f: float(d) for f, d in zip(self.features, self.mean)}


def shuffles(n_rows: int, n_features: int, n_repeats: int, seed: int) -> list[list[np.ndarray]]:
    """Row orders per feature and repeat, as scikit-learn draws them.

    It seeds one RandomState per feature with the same number, then shuffles an
    index in place before each repeat and applies it to the already-shuffled
    column, so repeat r is the composition of the first r shuffles.
    """
    column_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    out = []
    for _ in range(n_features):
        rng, index, order, orders = np.random.RandomState(column_seed), np.arange(n_rows), np.arange(n_rows), []
        for _ in range(n_repeats):
            rng.shuffle(index)
            order = order[index]
            orders.append(order)
        out.append(orders)
    return out


def permutation_scores(model, X: pd.DataFrame, y: pd.Series, task: str, metric: Metric, positive: object = None,
                       n_repeats: int = 5, seed: int = 0, rows_per_call: int = ROWS_PER_CALL) -> PermutationScores:
    """Permutation importance of every column of ``X`` for ``model``, scored by ``metric`` against ``y``."""
    X, features, n = X.reset_index(drop=True), [str(c) for c in X.columns], len(X)
    # The rows as they are first, then every (feature, repeat) shuffle of them.
    copies = [None] + [(col, order) for col, orders in zip(X.columns, shuffles(n, X.shape[1], n_repeats, seed))
                       for order in orders]
    per_call = max(1, rows_per_call // max(n, 1))
    out = np.concatenate([_predict(model, pd.concat([_copy(X, c) for c in copies[i:i + per_call]], ignore_index=True),
                                   task) for i in range(0, len(copies), per_call)])
    score = _scorer(model, np.asarray(y), task, metric, positive)
    scores = np.array([score(out[b * n:(b + 1) * n]) for b in range(len(copies))])
    sign = 1.0 if metric.greater_is_better else -1.0
    drops = sign * (scores[0] - scores[1:].reshape(len(features), n_repeats))
    return PermutationScores(features, metric, float(scores[0]), drops)


def _copy(X: pd.DataFrame, shuffle: tuple[str, np.ndarray] | None) -> pd.DataFrame:
    """``X`` with one column's values in another row order (its dtype kept), or ``X`` itself."""
    if shuffle is None:
        return X
    col, order = shuffle
    return X.assign(**{col: X[col].iloc[order].reset_index(drop=True)})


def _predict(model, X: pd.DataFrame, task: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(model.predict(X) if task == REGRESSION else model.predict_proba(X), dtype=float)


def _scorer(model, y: np.ndarray, task: str, metric: Metric, positive: object):
    """Scores of one block of model outputs. Labels become class indices once: the same scores, without
    scikit-learn comparing and sorting the labels again for every block."""
    if task == REGRESSION:
        truth = y.astype(float)
        return lambda pred: metric.score(Predictions(truth, pred))
    index = pd.Index(list(model.classes_))
    truth = index.get_indexer(y)  # -1: a label the model never saw, scored as wrong
    pos = index.get_indexer([positive])[0] if positive is not None and positive in index else None
    if pos is None and len(index) == 2:
        pos = 1  # no positive class known: the second, as scikit-learn's binary metrics assume
    codes = list(range(len(index)))
    return lambda proba: metric.score(Predictions(truth, proba.argmax(1), proba, codes, pos))
