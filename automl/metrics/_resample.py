"""The building blocks of a vectorised bootstrap: per-row statistics and counts over a batch of resamples.

A batch is ``draws``, row indices of shape (b, m). Every metric is a mean of
per-row values or a function of counts per code (a class, a confusion cell, a
score value, a rank), and both are gathers from small arrays plus one
``bincount``: no (b, n) weight matrix, no per-resample Python loop, so 1,000
resamples cost a few gathers instead of 1,000 calls to scikit-learn.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from automl.metrics._base import Metric, Predictions


class Rows:
    """Per-row quantities of one set of predictions, computed once and shared by every batch."""

    def __init__(self, p: Predictions) -> None:
        self.p, self.n = p, len(p.y_true)
        self._scores: dict[int, tuple[np.ndarray, int]] = {}

    # -- regression ---------------------------------------------------------------------------
    @cached_property
    def y(self) -> np.ndarray:
        return np.asarray(self.p.y_true, dtype=float)

    @cached_property
    def err(self) -> np.ndarray:
        return np.asarray(self.p.y_pred, dtype=float) - self.y

    # -- classification -------------------------------------------------------------------------
    @cached_property
    def k(self) -> int:
        return len(self.p.classes)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {str(c): i for i, c in enumerate(self.p.classes)}

    @cached_property
    def yi(self) -> np.ndarray:
        """Each row's true class, as its index in ``classes``."""
        return np.array([self._index[str(v)] for v in self.p.y_true], dtype=np.int64)

    @cached_property
    def cells(self) -> np.ndarray:
        """Each row's confusion cell: true index * k + predicted index."""
        return self.yi * self.k + np.array([self._index[str(v)] for v in self.p.y_pred], dtype=np.int64)

    @cached_property
    def pos(self) -> int:
        classes = list(self.p.classes)
        return classes.index(self.p.positive) if self.p.positive in classes else self.k - 1

    @cached_property
    def proba(self) -> np.ndarray:
        proba = np.asarray(self.p.proba, dtype=float)
        return proba / proba.sum(1, keepdims=True)

    @cached_property
    def p_true(self) -> np.ndarray:
        """The probability given to each row's true class."""
        return self.proba[np.arange(self.n), self.yi]

    def score_codes(self, j: int) -> tuple[np.ndarray, int]:
        """Class ``j``'s score as its rank among distinct values, shifted by the count of them for negatives."""
        if j not in self._scores:
            values, inverse = np.unique(self.proba[:, j], return_inverse=True)
            self._scores[j] = (inverse.ravel() + len(values) * (self.yi != j), len(values))
        return self._scores[j]


class Batch:
    """A batch of resamples of :class:`Rows`; the statistics that several metrics share are computed once."""

    def __init__(self, rows: Rows, draws: np.ndarray) -> None:
        self.rows, self.draws = rows, draws

    def take(self, per_row: np.ndarray) -> np.ndarray:
        return per_row[self.draws]

    def mean(self, per_row: np.ndarray) -> np.ndarray:
        return per_row[self.draws].mean(1)

    def counts(self, codes: np.ndarray, width: int) -> np.ndarray:
        """How often each code in ``0..width-1`` is drawn, per resample: (b, width)."""
        b = self.draws.shape[0]
        flat = (codes[self.draws] + np.arange(b)[:, None] * width).ravel()
        return np.bincount(flat, minlength=b * width).reshape(b, width).astype(float)

    def median(self, values: np.ndarray) -> np.ndarray:
        """The median of ``values`` over each resample: the middle value(s) of the repeated sorted values."""
        order = np.argsort(values, kind="stable")
        rank = np.empty(len(values), dtype=np.int64)
        rank[order] = np.arange(len(values))
        cum, m = np.cumsum(self.counts(rank, len(values)), axis=1), self.draws.shape[1]
        ranked = values[order]
        return (ranked[np.argmax(cum >= (m - 1) // 2 + 1, axis=1)] + ranked[np.argmax(cum >= m // 2 + 1, axis=1)]) / 2

    # -- the confusion matrix and the per-class rates it gives ------------------------------------
    @cached_property
    def confusion(self) -> np.ndarray:
        k = self.rows.k
        return self.counts(self.rows.cells, k * k).reshape(-1, k, k)

    @cached_property
    def tp(self) -> np.ndarray:
        return np.diagonal(self.confusion, axis1=1, axis2=2)

    @cached_property
    def true(self) -> np.ndarray:
        return self.confusion.sum(2)

    @cached_property
    def predicted(self) -> np.ndarray:
        return self.confusion.sum(1)

    @cached_property
    def total(self) -> np.ndarray:
        return self.confusion.sum((1, 2))

    @property
    def recall(self) -> np.ndarray:
        return self.tp / self.true  # NaN for a class absent from the resample

    @property
    def precision(self) -> np.ndarray:
        return np.nan_to_num(self.tp / self.predicted)

    @property
    def f1(self) -> np.ndarray:
        return np.nan_to_num(2 * self.tp / (self.true + self.predicted))

    def class_average(self, per_class: np.ndarray, weighted: bool = False) -> np.ndarray:
        """Binary: the positive class. Multiclass: mean over the classes present (macro) or weighted by support."""
        if weighted:
            return (per_class * self.true).sum(1) / self.true.sum(1)
        if self.rows.k == 2:
            return per_class[:, self.rows.pos]
        present = (self.true + self.predicted) > 0
        return (per_class * present).sum(1) / present.sum(1)

    # -- ranking metrics -------------------------------------------------------------------------
    def ranked(self, j: int, average_precision: bool = False) -> np.ndarray:
        """ROC AUC (ties count half) or average precision of class ``j`` one-vs-rest, from counts per score."""
        codes, u = self.rows.score_codes(j)
        both = self.counts(codes, 2 * u)
        pos, neg = both[:, :u], both[:, u:]
        n_pos = pos.sum(1)
        if average_precision:  # precision at each threshold, weighted by the recall it adds
            tp, fp = np.cumsum(pos[:, ::-1], 1), np.cumsum(neg[:, ::-1], 1)
            return np.nansum(pos[:, ::-1] * tp / (tp + fp), 1) / n_pos
        below = np.cumsum(neg, 1) - neg
        return (pos * (below + 0.5 * neg)).sum(1) / (n_pos * neg.sum(1))

    def one_vs_rest_auc(self, weighted: bool = False) -> np.ndarray:
        """Binary: the positive class's ROC AUC. Multiclass: one-vs-rest AUCs, averaged (macro) or weighted."""
        if self.rows.k == 2:
            return self.ranked(self.rows.pos)
        aucs = np.column_stack([self.ranked(j) for j in range(self.rows.k)])
        if not weighted:
            return np.nanmean(aucs, axis=1)
        true = self.counts(self.rows.yi, self.rows.k)
        return np.nansum(aucs * true, 1) / np.where(np.isnan(aucs), 0, true).sum(1)

    # -- the generic fallback --------------------------------------------------------------------
    def rescored(self, metric: Metric) -> np.ndarray:
        """``metric.score`` on each resample in turn: for a metric without a vectorised bootstrap."""
        out = np.full(self.draws.shape[0], np.nan)
        for b, rows in enumerate(self.draws):
            value, _ = metric.checked_score(self.rows.p.take(rows))
            out[b] = np.nan if value is None else value
        return out
