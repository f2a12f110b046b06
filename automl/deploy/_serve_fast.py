"""The served model's preprocessing, tabulated, so a request of a few rows costs a dict lookup per value.

For one row, scikit-learn's ``ColumnTransformer`` and ``OrdinalEncoder`` cost
~15 ms (titanic, LightGBM: the estimator itself takes ~1 ms): the encoder
rebuilds a table of all its categories on every call. An encoder of one
categorical column is a function of the value alone, so here it is evaluated
*once*, by the real transformer, on every training category, one unseen value
and a missing one; a request then looks its values up. Numbers that pass
through are copied. Any other block (dates, scaled numbers) runs its own
``transform``. Results equal the original pipeline's (a test checks it).
Big frames use the original pipeline, which is vectorised.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from automl.data import FrameCoercer, canonical_category

FAST_ROWS = 64  # up to this many rows, the tabulated path; beyond, the original (vectorised) pipeline
_UNSEEN = "\x00unseen\x00"  # a value no training category can be


class _Table:
    """One categorical column's encoded output for every training category, an unseen value and a missing one."""

    def __init__(self, rows: dict[str, np.ndarray], unseen: np.ndarray, missing: np.ndarray) -> None:
        self.rows, self.unseen, self.missing = rows, unseen, missing

    def lookup(self, values: list) -> np.ndarray:
        return np.vstack([self.missing if v is None else self.rows.get(v, self.unseen) for v in values])


class FastPipeline:
    """``coerce`` + ``ColumnTransformer`` of a fitted Pipeline, tabulated where possible; then its estimator."""

    def __init__(self, pipeline: Pipeline) -> None:
        coercer, columns = pipeline.steps[0][1], pipeline.steps[1][1]
        if len(pipeline.steps) != 3 or not isinstance(coercer, FrameCoercer) or not isinstance(
                columns, ColumnTransformer) or columns.sparse_threshold != 0.0:
            raise TypeError("not a coerce + ColumnTransformer + estimator Pipeline")
        self.pipeline, self.coercer, self.final = pipeline, coercer, pipeline.steps[2][1]
        self.numeric, self.categorical = set(coercer.numeric or []), set(coercer.categorical or [])
        self.blocks: list[tuple[str, Any, list[str]]] = []  # ("pass" | "table" | "own", what, columns)
        for name, trans, cols in columns.transformers_:
            cols = list(cols) if not isinstance(cols, str) else [cols]
            if trans == "drop" or not cols or columns.output_indices_[name].stop == columns.output_indices_[name].start:
                continue
            if trans == "passthrough" or (isinstance(trans, FunctionTransformer) and trans.func is None):
                if not set(cols) <= self.numeric:
                    raise TypeError("passthrough of non-numeric columns")
                self.blocks.append(("pass", None, cols))
            elif set(cols) <= self.categorical and _tabulable(trans, cols):
                self.blocks.append(("table", _tabulate(trans, cols), cols))
            else:
                self.blocks.append(("own", trans, cols))
        if hasattr(self.final, "classes_"):
            self.classes_ = self.final.classes_

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The matrix the estimator reads (the original pipeline's for more than :data:`FAST_ROWS` rows)."""
        if len(X) > FAST_ROWS or not isinstance(X, pd.DataFrame):
            return self.pipeline[:-1].transform(X)
        coerced: pd.DataFrame | None = None
        parts = []
        for kind, what, cols in self.blocks:
            if kind == "pass":
                parts.append(np.column_stack([self._numbers(X, c) for c in cols]))
            elif kind == "table":
                parts.append(np.hstack([t.lookup([canonical_category(v) for v in X[c].tolist()])
                                        for t, c in zip(what, cols)]))
            else:
                coerced = self.coercer.transform(X) if coerced is None else coerced
                parts.append(np.asarray(what.transform(coerced[cols]), dtype=float).reshape(len(X), -1))
        return np.hstack(parts).astype(np.float64, copy=False)

    def _numbers(self, X: pd.DataFrame, col: str) -> np.ndarray:
        raw = X[col]
        if raw.dtype.kind in "fiu":
            values = raw.to_numpy(dtype=np.float64, copy=True)
        else:  # raw text: pandas' parser decides, as in FrameCoercer
            values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy(copy=True)
        values[np.isinf(values)] = np.nan
        return values

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.final.predict(self.transform(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.final.predict_proba(self.transform(X))


def _tabulable(trans: Any, cols: list[str]) -> bool:
    """Whether ``trans`` is a function of each value alone, with one answer for every unseen value."""
    from sklearn.preprocessing import OrdinalEncoder

    steps = [s for _, s in trans.steps] if isinstance(trans, Pipeline) else [trans]
    coded = [s for s in steps if hasattr(s, "categories_")]
    if not coded or any(getattr(s, "handle_unknown", "ignore") == "error" for s in coded):
        return False
    return len(cols) == 1 or (len(steps) == 1 and isinstance(trans, OrdinalEncoder))  # column by column


def _tabulate(trans: Any, cols: list[str]) -> list[_Table]:
    """Evaluate ``trans`` on every category of each column (other columns held at their first category)."""
    steps = [s for _, s in trans.steps] if isinstance(trans, Pipeline) else [trans]
    cats = next(s for s in steps if hasattr(s, "categories_")).categories_
    known = [[c for c in cats[j] if isinstance(c, str)] for j in range(len(cols))]
    if any(len(k) + 1 < len(cats[j]) for j, k in enumerate(known)):
        raise TypeError("categories other than text (and one missing value): not looked up by text")
    filler = [k[0] if k else _UNSEEN for k in known]
    tables = []
    for j in range(len(cols)):
        values = [*known[j], _UNSEEN, np.nan]
        frame = pd.DataFrame({c: (values if i == j else [filler[i]] * len(values)) for i, c in enumerate(cols)},
                             dtype=object)
        out = np.asarray(trans.transform(frame), dtype=float).reshape(len(values), -1)
        width = out.shape[1] // len(cols)
        block = out[:, j * width:(j + 1) * width] if len(cols) > 1 else out
        tables.append(_Table(dict(zip(known[j], block[:-2])), block[-2], block[-1]))
    return tables


def fast_model(model: Any) -> Any:
    """``model`` with every fitted coerce + ColumnTransformer Pipeline in it (itself or an ensemble's members)
    replaced by a :class:`FastPipeline`; anything else is kept as it is (and still predicts, just not faster)."""
    if isinstance(model, Pipeline):
        try:
            return FastPipeline(model)
        except (TypeError, AttributeError, ValueError, IndexError):
            return model
    members = getattr(model, "estimators_", None)
    if isinstance(members, list) and members and all(isinstance(m, Pipeline) for m in members):
        model = copy.copy(model)  # an ensemble of pipelines: the members are what is slow
        model.estimators_ = [fast_model(m) for m in members]
    return model
