"""Bootstrap intervals over rows, with each metric's own vectorised resampling from the registry.

A batch of resamples is a matrix of row indices; the registry scores a whole
batch at once (:meth:`automl.metrics.Metric.resampled`), so 1,000 resamples
cost a few gathers and bincounts instead of 1,000 calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from automl.evaluation._inputs import checked_inputs
from automl.metrics import REGRESSION, Predictions, Rows, get_metric

CHUNK = 2_000_000  # resample-rows held in memory at once by the bootstrap


def bootstrap_interval(y_true, y_pred, proba=None, classes=None, task: str = REGRESSION, metric: str | None = None,
                       positive: Any = None, n_resamples: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``metric`` over rows (None when most resamples leave it undefined)."""
    y, pred, proba, classes = checked_inputs(y_true, y_pred, proba, classes or [], task)
    scored = get_metric(metric, task, optimise=False)
    rows = Rows(Predictions(y, pred, proba, classes, positive))
    rng = np.random.default_rng(seed)
    n, block, values = len(y), max(1, CHUNK // len(y)), []
    for start in range(0, n_resamples, block):
        values.append(scored.resampled(rows, rng.integers(0, n, size=(min(block, n_resamples - start), n))))
    out = np.concatenate(values)
    out = out[np.isfinite(out)]
    if len(out) < n_resamples / 2:
        return None
    low, high = np.quantile(out, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def weighted_metric(name: str, y_true, y_pred, proba, classes, task: str, positive: Any,
                    weights: np.ndarray) -> np.ndarray:
    """``name`` on rows repeated ``weights[b, i]`` times (whole counts, equal totals), for each row b."""
    y, pred, proba, classes = checked_inputs(y_true, y_pred, proba, classes or [], task)
    counts = np.atleast_2d(np.asarray(weights)).astype(int)
    if len(set(counts.sum(1).tolist())) != 1:
        raise ValueError("every row of weights must add up to the same number of draws")
    draws = np.stack([np.repeat(np.arange(len(y)), row) for row in counts])
    return get_metric(name, task, optimise=False).resampled(Rows(Predictions(y, pred, proba, classes, positive)),
                                                            draws)
