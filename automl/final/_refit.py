"""The final fit of a chosen configuration: the whole pipeline, at a memory cost a large table can bear.

Fitting the usual way (``pipeline.fit(X, y)``) casts every category cell to a
Python string and ordinal-encodes ten million object rows: on a 10 M x 50
table that took more than 20 GB. Tree-style pipelines learn nothing from the
target in their preprocessing, and what they learn (the sorted categories of
each column, whether dates carry hours) depends only on the distinct values.
So the preprocessing is fitted on one row per distinct value, and the model
on the feature matrix the search has already built — the same numbers the
fitted preprocessing gives for those rows (tested), with no second copy.
The registry says which preprocessing allows it (``Preprocessing.encode_once``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from automl.algorithms import ALGORITHMS, fit_within, limited_threads
from automl.data import BOOLEAN, CATEGORICAL, DATETIME, Schema
from automl.search import FitPool, fit_workers


def fit_final(space, objective, algo_name: str, params: dict[str, Any], X: pd.DataFrame,
              y: pd.Series, pooled: bool = False, time_left: Callable[[], float] | None = None) -> Pipeline:
    """The fitted raw-rows-in pipeline of ``algo_name`` with ``params`` on all training rows ``X``, ``y``.

    ``objective`` is the search's :class:`automl.search.Objective`: its tree matrix holds the
    training rows (possibly permuted, with ``objective.y`` in the same order). The fit gets the
    threads the algorithm's policy gives ``len(y)`` rows, as the search's fits did; ``pooled``: it
    runs beside others in threads (:func:`fit_members`), which hold the process-wide settings.
    ``time_left``: a boosting with a per-round clock (LightGBM) raises :class:`automl.algorithms.TimeUp` once it
    is below zero (an optional fit, such as the refit on all rows, gives way to the budget).
    """
    algo = ALGORITHMS[algo_name]
    estimator = algo.make(params, space.task, space.seed, schema=space.schema)
    pipeline = algo.preprocessing.pipeline(space.schema, estimator, space.task, space.seed)
    with nullcontext() if pooled else warnings.catch_warnings(), \
            limited_threads(estimator, algo.threads(len(y)), shared_pools=not pooled):
        if not pooled:
            warnings.simplefilter("ignore")
        if time_left is not None and algo.deadline is not None:
            # the same fit as pipeline.fit, the boosting asking the clock each round; a warm-started fit is not
            # chunked here (HistGradientBoosting bins the rows again on every chunk: wine-quality's refit ran 6 s
            # over and then gave way)
            fit_within(algo, estimator, pipeline[:-1].fit_transform(X, y), y, time_left)
        elif not algo.preprocessing.encode_once or objective is None:
            return pipeline.fit(X, y)
        else:
            pipeline[:-1].fit(representative_rows(X, space.schema))  # the slice shares the step objects
            estimator.fit(objective.tree_matrix, objective.y)
    return pipeline


def fit_members(space, objective, members: Sequence[Any], X: pd.DataFrame, y: pd.Series,
                time_left: Callable[[], float] | None = None) -> list[Pipeline]:
    """:func:`fit_final` of each member (``.algorithm``, ``.params``), in order. Those whose fit gets a single
    thread (small tables) and runs well beside others (``side_by_side``) fit one per core, as the folds do."""
    def pooled(m) -> bool:
        algo = ALGORITHMS[m.algorithm]
        return algo.side_by_side and algo.threads(len(y)) == 1

    together = [i for i, m in enumerate(members) if pooled(m)]
    width = fit_workers(len(together))
    fitted: dict[int, Pipeline] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jobs = FitPool(width).run([(members[i],) for i in together], lambda: None,
                                  lambda m: fit_final(space, objective, m.algorithm, m.params, X, y, width > 1,
                                                      time_left))
        fitted.update({together[k]: model for k, model in jobs})
    for i, m in enumerate(members):
        if i not in fitted:
            fitted[i] = fit_final(space, objective, m.algorithm, m.params, X, y, time_left=time_left)
    return [fitted[i] for i in range(len(members))]


def representative_rows(X: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Rows of ``X`` holding every distinct category value (missing included) and a timed date if any.

    Fitting the tree preprocessing on these gives the same encoders as fitting it on all of ``X``.
    """
    keep = {0} if len(X) else set()
    for col in schema.of_kind(CATEGORICAL, BOOLEAN):
        values = X[col]
        keys = pd.Series(values.cat.codes) if isinstance(values.dtype, pd.CategoricalDtype) else values
        keep.update(np.flatnonzero(~keys.duplicated().to_numpy()).tolist())
    for col in schema.of_kind(DATETIME):
        parsed = pd.to_datetime(X[col], errors="coerce", format="mixed")
        keep.update(np.flatnonzero(parsed.dt.hour.fillna(0).to_numpy() != 0)[:1].tolist())
    return X.iloc[sorted(keep)]
