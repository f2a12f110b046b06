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
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from automl.algorithms import ALGORITHMS, limited_threads
from automl.data import BOOLEAN, CATEGORICAL, DATETIME, Schema


def fit_final(space, objective, algo_name: str, params: dict[str, Any], X: pd.DataFrame,
              y: pd.Series) -> Pipeline:
    """The fitted raw-rows-in pipeline of ``algo_name`` with ``params`` on all training rows ``X``, ``y``.

    ``objective`` is the search's :class:`automl.search.Objective`: its tree matrix holds the
    training rows (possibly permuted, with ``objective.y`` in the same order). The fit gets the
    threads the algorithm's policy gives ``len(y)`` rows, as the search's fits did.
    """
    algo = ALGORITHMS[algo_name]
    estimator = algo.make(params, space.task, space.seed, schema=space.schema)
    pipeline = algo.preprocessing.pipeline(space.schema, estimator, space.task, space.seed)
    with warnings.catch_warnings(), limited_threads(estimator, algo.threads(len(y))):
        warnings.simplefilter("ignore")
        if not algo.preprocessing.encode_once or objective is None:
            return pipeline.fit(X, y)
        pipeline[:-1].fit(representative_rows(X, space.schema))  # the slice shares the step objects
        estimator.fit(objective.tree_matrix, objective.y)
    return pipeline


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
