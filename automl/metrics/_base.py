"""What a metric is: the predictions it scores and the one entry that declares it.

An entry says everything the stages ask about a metric (its label, direction,
tasks, how it is scored and how it is bootstrapped), so the search, the
ensemble, evaluation, fairness, monitoring and compare never branch on a name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from automl.metrics._resample import Batch, Rows

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
CLASSIFICATION = (BINARY, MULTICLASS)


@dataclass
class Predictions:
    """What a model said about some rows."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None  # (n, n_classes) in ``classes`` order
    classes: list | None = None
    positive: object = None  # the positive class for binary metrics

    def take(self, rows: np.ndarray) -> Predictions:
        """The same predictions on ``rows`` (indices; repeats allowed, as a resample has)."""
        return Predictions(self.y_true[rows], self.y_pred[rows], None if self.proba is None else self.proba[rows],
                           self.classes, self.positive)


@dataclass(frozen=True)
class Metric:
    """One metric, declared once.

    ``score`` is scikit-learn's own function on the predictions. ``bootstrap``
    scores a whole batch of resamples at once from per-row statistics (see
    :class:`automl.metrics._resample.Batch`); without one, each resample is
    rescored by ``score``. ``undefined`` says why the metric can't be taken on
    some rows (None when it can); ``optimisable`` lets the search optimise it
    (otherwise it is only reported); ``quoted`` puts it in one-line summaries.
    """

    name: str
    label: str
    greater_is_better: bool
    tasks: tuple[str, ...]
    score: Callable[[Predictions], float]
    bootstrap: Callable[[Batch], np.ndarray] | None = None
    needs_proba: bool = False
    macro: bool = False  # averaged over classes (unweighted) for multiclass tasks
    optimisable: bool = False
    quoted: bool = False
    undefined: Callable[[Predictions], str | None] | None = None

    @property
    def direction(self) -> str:
        return "maximize" if self.greater_is_better else "minimize"

    def label_for(self, task: str | None) -> str:
        """The label, saying how a multiclass score was averaged (probability metrics are one-vs-rest)."""
        if task == MULTICLASS and self.macro:
            return f"{self.label} ({'one-vs-rest, ' if self.needs_proba else ''}macro)"
        return self.label

    def why_undefined(self, p: Predictions) -> str | None:
        if self.needs_proba and p.proba is None:
            return "the model gives no probabilities"
        return self.undefined(p) if self.undefined else None

    def checked_score(self, p: Predictions) -> tuple[float | None, str | None]:
        """(score, None), or (None, why) where the metric is not defined on these rows."""
        reason = self.why_undefined(p)
        if reason is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value = float(self.score(p))
                if np.isfinite(value):
                    return value, None
                reason = "a class is absent from these rows"
            except ValueError as err:  # e.g. one class only in a tiny split
                reason = str(err)
        return None, reason

    def resampled(self, rows: Rows, draws: np.ndarray) -> np.ndarray:
        """The metric on each resample ``draws[b]`` (row indices, shape (b, m)); NaN where undefined."""
        batch = Batch(rows, np.atleast_2d(draws))
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.bootstrap is not None:
                return np.asarray(self.bootstrap(batch), dtype=float)
            return batch.rescored(self)
