"""Fitting that stops at a deadline, so a trial can't overrun the time budget.

LightGBM takes a per-iteration callback; scikit-learn's ensembles grow with
``warm_start``, so we add trees in chunks and check the clock between them
(with a fixed ``random_state`` the result equals one fit of all the trees).
Anything else is fitted in one go, guarded by the time estimates of the search.
"""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import BaseEstimator

from automl.algorithms._registry import SMALL_ROWS


class TimeUp(Exception):
    """Raised inside a fit that would run past the search deadline."""


CHUNK = 25
GROWABLE = ("n_estimators", "max_iter")


def fit_within(est: BaseEstimator, X, y, time_left: Callable[[], float]) -> BaseEstimator:
    """Fit ``est``; raise :class:`TimeUp` as soon as ``time_left()`` drops below zero.

    On small tables OpenMP is held to one thread: HistGradientBoosting has no ``n_jobs`` and,
    on a busy 2-core machine, its two threads made a 600-row fit 40 times slower.
    """
    if len(y) < SMALL_ROWS:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            return _fit_within(est, X, y, time_left)
    return _fit_within(est, X, y, time_left)


def _fit_within(est: BaseEstimator, X, y, time_left: Callable[[], float]) -> BaseEstimator:
    if type(est).__module__.startswith("lightgbm"):
        return est.fit(X, y, callbacks=[_lightgbm_callback(time_left)])
    params = est.get_params()
    size = next((p for p in GROWABLE if p in params), None)
    if "warm_start" not in params or size is None or params[size] < 2 * CHUNK or _is_mlp(est):
        return est.fit(X, y)
    total = int(params[size])
    est.set_params(warm_start=True)
    try:
        for n in [*range(CHUNK, total, CHUNK), total]:
            est.set_params(**{size: n})
            est.fit(X, y)
            if n < total and getattr(est, "n_iter_", n) < n:
                break  # early stopping ended the boosting: no more iterations to add
            if time_left() < 0:
                raise TimeUp()
    finally:
        est.set_params(warm_start=False, **{size: total})
    return est


def _is_mlp(est: BaseEstimator) -> bool:
    # MLP's warm_start restarts the optimiser per call, so chunks would change the result.
    return type(est).__name__.startswith("MLP")


def _lightgbm_callback(time_left: Callable[[], float]) -> Callable:
    def callback(env) -> None:
        if time_left() < 0:
            raise TimeUp()
    callback.order = 100  # type: ignore[attr-defined]
    return callback
