"""What a registry entry declares: how to build the estimator, its search space, and the traits the code obeys.

The search, the refit and the exports read these declarations instead of guessing from an estimator's
class or module: the iteration parameter and whether the estimator stops early or warm-starts
(:func:`automl.algorithms.fit_within` grows and stops it from them), the thread policy, ONNX
convertibility with its reason, and the preprocessing style.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from sklearn.base import BaseEstimator

from automl.algorithms._preprocessing import Preprocessing

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
CLS, REG, ALL = (BINARY, MULTICLASS), (REGRESSION,), (BINARY, MULTICLASS, REGRESSION)
N_JOBS = 2  # what the builders give estimators with an n_jobs parameter
SMALL_ROWS = 20_000
SAVE_BASE_S = 0.2  # writing a model without many trees as skops


def fit_threads(n_rows: int) -> int | None:
    """The threads one fit on ``n_rows`` rows gets: 1 on small tables, None (the estimator's own) above.

    Below :data:`SMALL_ROWS` threads cost more than they give, and two searches sharing 2 cores
    slowed each other down many times over (HistGradientBoosting's two OpenMP threads made a
    600-row fit 40 times slower on a busy 2-core machine). None leaves ``n_jobs`` as built
    (:data:`N_JOBS`) and the OpenMP/BLAS pools as the libraries set them.
    """
    return 1 if n_rows < SMALL_ROWS else None


@dataclass(frozen=True)
class Algorithm:
    """One registry entry.

    ``build(params, task, seed)`` makes the estimator from a flat params dict; ``space(trial, task, n_rows)``
    draws those params (bounds may scale with the training rows); ``defaults`` are tried first, in order.
    ``iterations``: the parameter counting trees, boosting rounds or epochs (a ``build`` parameter; None:
    not iterative). ``warm_start``: raising ``iterations`` with ``warm_start=True`` continues the fit and
    ends equal to one fit of them all, so the fit can grow in chunks and check the clock between them.
    ``early_stopping``: the estimator may stop before ``iterations`` on its own, on a validation split.
    ``deadline``: fit keyword arguments that check ``time_left()`` every iteration and raise
    :class:`TimeUp` (LightGBM's callbacks). ``validation_stop(X_va, y_va)``: fit keyword arguments that stop
    the boosting once the validation rows stop improving; ``iterations`` then is only a cap, and
    ``best_iteration(est)`` the number found (the refit uses it). ``thread_policy(n_rows)``: see :func:`fit_threads`.
    ``side_by_side``: single-threaded fits of it run well in parallel threads (it releases the GIL while it
    fits), so a trial's folds and an ensemble's members run one per core (measured: LightGBM 1.5x faster on
    2 cores; HistGradientBoosting, linear models, kNN and MLP 10-25% slower, their loops holding the GIL).
    ``onnx``: the tasks for which our converters turn it into a faithful ONNX graph (default: all it does);
    ``onnx_reason`` says why not for the others. ``onnx_table(schema)``: why its graph can't follow a table of
    that schema although it converts the task ('' when it can; kNN on categories only, where ties decide).
    """

    name: str
    label: str
    tasks: tuple[str, ...]
    preprocessing: Preprocessing
    build: Callable[[dict[str, Any], str, int], BaseEstimator]
    space: Callable[[optuna.Trial, str, int], dict[str, Any]]
    defaults: tuple[dict[str, Any], ...] = ()
    max_rows: int | None = None  # above this many training rows the algorithm is left out
    explainer: str = "kernel"  # SHAP explainer family: tree | linear | kernel
    iterations: str | None = None
    warm_start: bool = False
    early_stopping: bool = False
    deadline: Callable[[Callable[[], float]], dict[str, Any]] | None = None
    validation_stop: Callable[[Any, Any], dict[str, Any]] | None = None
    schema_params: Callable[[Any], dict[str, Any]] | None = None  # (schema) -> params its features call for
    best_iteration: Callable[[BaseEstimator], int | None] | None = None
    thread_policy: Callable[[int], int | None] = fit_threads
    side_by_side: bool = False
    save_s_per_iteration: float = 0.0  # seconds skops takes to write (and vet) one of its trees
    trees_per_class: bool = False  # multiclass: one tree per class and iteration (HistGradientBoosting)
    cost_scale: Callable[[dict[str, Any]], float] | None = None  # a config's cost beyond its iterations (MLP's size)
    # For a nonnegative, right-skewed regression target (prices, counts): params drawn beside ``space``, and
    # configs tried early, that fit it on a log scale (LightGBM's Tweedie objective); CV decides.
    log_link_space: Callable[[optuna.Trial], dict[str, Any]] | None = None
    log_link_defaults: tuple[dict[str, Any], ...] = ()
    onnx: tuple[str, ...] = ALL
    onnx_reason: str = ""
    onnx_table: Callable[[Any], str] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not set(self.tasks) <= set(self.onnx) and not self.onnx_reason:
            raise ValueError(f"The 'onnx_reason' of algorithm {self.name!r} must say why it can't convert.")
        if self.validation_stop is not None and (self.best_iteration is None or self.iterations is None):
            raise ValueError(f"Algorithm {self.name!r} stops on validation rows, so it must name its 'iterations' "
                             "parameter and say how to read the 'best_iteration' found.")
        if self.warm_start and self.iterations is None:
            raise ValueError(f"Algorithm {self.name!r} warm-starts, so its 'iterations' parameter must be named.")

    @property
    def style(self) -> str:
        """The preprocessing style's name, as :func:`automl.data.build_pipeline` takes it."""
        return self.preprocessing.name

    @property
    def stops_at_deadline(self) -> bool:
        """Whether :func:`fit_within` can stop a fit midway (else it runs to the end once started)."""
        return self.deadline is not None or self.warm_start

    def save_estimate(self, params: dict[str, Any], n_classes: int = 0) -> float:
        """Seconds to write a fitted model of ``params`` as skops: about 0.2 s, plus its trees for scikit-learn's
        forests (skops writes each tree as its own object: a titanic ensemble of forests took 5.9 s) and, far
        fewer, for HistGradientBoosting (its trees are written packed as arrays)."""
        if not self.save_s_per_iteration or self.iterations is None:
            return SAVE_BASE_S
        per_iteration = n_classes if self.trees_per_class and n_classes > 2 else 1
        return SAVE_BASE_S + self.save_s_per_iteration * float(params.get(self.iterations, 100)) * per_iteration

    def converts(self, task: str, schema: Any = None) -> bool:
        """Whether its model for ``task`` (on a table of ``schema``, when given) can be exported to ONNX."""
        return not self.onnx_refusal(task, schema)

    def onnx_refusal(self, task: str, schema: Any = None) -> str:
        """Why its model for ``task`` (on a table of ``schema``, when given) can't be exported to ONNX; '' if it can."""
        if task not in self.onnx:
            return self.onnx_reason
        return self.onnx_table(schema) if schema is not None and self.onnx_table is not None else ""

    def threads(self, n_rows: int, cap: int | None = None) -> int | None:
        """Threads for a fit on ``n_rows`` rows, at most ``cap`` (workers sharing a machine pass 1)."""
        threads = self.thread_policy(n_rows)
        if cap is None:
            return threads
        return cap if threads is None else min(threads, cap)

    def make(self, params: dict[str, Any], task: str, seed: int = 0, n_rows: int | None = None,
             schema: Any = None) -> BaseEstimator:
        """A fresh estimator; given ``n_rows``, its ``n_jobs`` follows the thread policy; given the table's
        ``schema``, the params ``schema_params`` derives from it (LightGBM: which features are categories)."""
        extra = self.schema_params(schema) if schema is not None and self.schema_params is not None else {}
        est = self.build({**params, **extra}, task, seed)
        threads = None if n_rows is None else self.threads(n_rows)
        if threads is not None and "n_jobs" in est.get_params():
            est.set_params(n_jobs=threads)
        return est

    def suits(self, task: str, n_rows: int, onnx_only: bool = False, schema: Any = None) -> tuple[bool, str]:
        """Whether to search this algorithm, and why not when it isn't (``onnx_only``: only those that convert,
        on this table when its ``schema`` is given)."""
        if task not in self.tasks:
            return False, f"does not do {task}"
        if onnx_only and not self.converts(task, schema):
            return False, f"left out for ONNX export: {self.onnx_refusal(task, schema)}"
        if self.max_rows is not None and n_rows > self.max_rows:
            return False, f"left out above {self.max_rows:,} training rows (too slow; {n_rows:,} here)"
        return True, ""
