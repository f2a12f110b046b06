"""Fitting that stops at a deadline, so a trial can't overrun the time budget, and the thread limits of a fit.

How a fit is stopped comes from the algorithm's declarations: a ``deadline`` hook (LightGBM's
per-iteration callback) is passed to ``fit``; a ``warm_start`` estimator grows its ``iterations``
in chunks with the clock checked between them (with a fixed ``random_state`` the result equals
one fit of all of them), and stops adding chunks once ``early_stopping`` ended it. Anything else
is fitted in one go, guarded by the time estimates of the search.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sklearn.base import BaseEstimator

if TYPE_CHECKING:
    from automl.algorithms._algorithm import Algorithm


class TimeUp(Exception):
    """Raised inside a fit that would run past the search deadline."""


CHUNK = 25


def fit_within(algo: Algorithm, est: BaseEstimator, X, y, time_left: Callable[[], float],
               validation: tuple | None = None) -> BaseEstimator:
    """Fit ``est`` (built by ``algo``); raise :class:`TimeUp` as soon as ``time_left()`` drops below zero.

    ``validation`` (X_va, y_va): rows an algorithm that declares ``validation_stop`` stops its boosting on.
    """
    if algo.deadline is not None:
        kwargs = algo.deadline(time_left)
        if validation is not None and algo.validation_stop is not None:
            stop = algo.validation_stop(*validation)
            kwargs = {**stop, **kwargs, "callbacks": [*stop.get("callbacks", []), *kwargs.get("callbacks", [])]}
        return est.fit(X, y, **kwargs)
    total = int(est.get_params()[algo.iterations]) if algo.warm_start else 0
    if total < 2 * CHUNK:
        return est.fit(X, y)
    size = algo.iterations
    est.set_params(warm_start=True)
    try:
        for n in [*range(CHUNK, total, CHUNK), total]:
            est.set_params(**{size: n})
            est.fit(X, y)
            if n < total and algo.early_stopping and est.n_iter_ < n:
                break  # early stopping ended the boosting: no more iterations to add
            if time_left() < 0:
                raise TimeUp()
    finally:
        est.set_params(warm_start=False, **{size: total})
    return est


@contextmanager
def limited_threads(est: BaseEstimator, threads: int | None, shared_pools: bool = True) -> Iterator[BaseEstimator]:
    """Hold ``est``'s ``n_jobs`` and the OpenMP/BLAS pools to ``threads`` while inside (None: leave them).

    The pools matter as much as ``n_jobs``: HistGradientBoosting has no ``n_jobs``, and the spinning
    threads of idle pools cost many times a small fit on a busy machine. Fits running side by side in
    threads pass ``shared_pools=False``: only this thread's OpenMP setting is changed (BLAS's is one per
    process, so the caller holds it for all of them; two threads setting and restoring it would race).
    """
    if threads is None:
        yield est
        return
    from threadpoolctl import threadpool_limits

    if "n_jobs" in est.get_params():
        est.set_params(n_jobs=threads)
    with threadpool_limits(limits=threads, user_api=None if shared_pools else "openmp"):
        yield est
