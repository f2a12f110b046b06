"""A profile of every column, with the warnings a data scientist would want first.

Leakage suspects are columns that predict the target almost perfectly on
their own: usually a copy or a consequence of the target, which makes a model
look great offline and fail in production.

The work is bounded: the leakage check reads at most ``MAX_CELLS`` sampled
cells (rows × columns), computed for all columns at once in NumPy, so a
5,000-column upload profiles in about a second and can't stall the server.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.data._coerce import WARNINGS_KEY
from automl.data._schema import CATEGORICAL, CONSTANT, ID, NUMERIC, TEXT, Schema, infer_column, infer_schema

LEAKAGE_SCORE = 0.98
SAMPLE_ROWS = 50_000
MAX_CELLS = 2_000_000  # sampled rows × checked columns: the leakage check's whole budget
MIN_SAMPLE_ROWS = 500  # below this a wide table checks fewer columns rather than fewer rows
QUANTILE_BINS = 50
CHUNK_CELLS = 5_000_000  # rows × bin edges × columns compared at once when binning numbers


@dataclass
class Profile:
    columns: pd.DataFrame  # one row per column: name, kind, dtype, missing_pct, unique, warnings
    warnings: list[str]
    n_rows: int
    n_columns: int
    memory_mb: float


def profile_table(frame: pd.DataFrame, target: str | None = None, task: str | None = None,
                  schema: Schema | None = None) -> Profile:
    """Profile ``frame``; with a ``target``, also flag columns that leak it.

    ``schema`` (e.g. a dataset's, which leaves the target out) saves inferring
    it again; columns it lacks are inferred here.
    """
    schema = _full_schema(frame, schema)
    leaks, notes = {}, list(frame.attrs.get(WARNINGS_KEY, []))  # what the reader changed comes first
    if target is not None:
        leaks, unchecked = leakage_suspects(frame, target, task, schema)
        if unchecked:
            notes.append(f"the last {unchecked:,} candidate columns were not checked for leakage "
                         f"(the check reads at most {MAX_CELLS:,} cells, rows × columns)")
    rows = []
    for col in schema.columns:
        warn = column_warnings(col, len(frame))
        if col.name in leaks:
            warn.append(f"leakage suspect: predicts '{target}' almost perfectly on its own ({leaks[col.name]:.3f})")
        if col.name == target:
            warn = ["target"]
        rows.append({"column": col.name, "kind": col.kind, "dtype": col.dtype,
                     "missing_pct": round(100 * col.n_missing / max(len(frame), 1), 2), "unique": col.n_unique,
                     "used": col.usable and col.name != target, "warnings": "; ".join(warn)})
        notes.extend(f"'{col.name}': {w}" for w in warn if w != "target")
    return Profile(columns=pd.DataFrame(rows), warnings=notes, n_rows=len(frame), n_columns=frame.shape[1],
                   memory_mb=round(_memory_bytes(frame) / 1e6, 2))


def _memory_bytes(frame: pd.DataFrame) -> int:
    """``frame.memory_usage(deep=True).sum()``, with NumPy columns counted from their dtype in one step."""
    flat = [i for i, dtype in enumerate(frame.dtypes) if isinstance(dtype, np.dtype) and dtype.kind != "O"]
    rest = np.setdiff1d(np.arange(frame.shape[1]), flat)
    deep = frame.iloc[:, rest].memory_usage(deep=True, index=False).sum() if len(rest) else 0
    return int(sum(frame.dtypes.iloc[flat].map(lambda d: d.itemsize)) * len(frame) + deep
               + frame.index.memory_usage(deep=True))


def _full_schema(frame: pd.DataFrame, schema: Schema | None) -> Schema:
    """The schema of every column of ``frame``, in its order, reusing ``schema`` where it covers them."""
    if schema is None:
        return infer_schema(frame)
    known = {c.name: c for c in schema.columns}
    cols = [known.get(str(name)) or infer_column(frame[name]) for name in frame.columns]
    return Schema(columns=cols, n_rows=len(frame))


def column_warnings(col, n_rows: int) -> list[str]:
    out = []
    if col.kind == ID:
        out.append(f"id-like ({col.reason}); not used as a feature")
    elif col.kind == CONSTANT:
        out.append(f"constant ({col.reason}); not used as a feature")
    elif col.kind == TEXT:
        out.append("free text; not used as a feature")
    elif col.high_cardinality:
        out.append(f"high cardinality ({col.n_unique:,} categories); target-encoded for linear models")
    if n_rows and col.n_missing / n_rows > 0.5:
        out.append(f"{100 * col.n_missing / n_rows:.0f}% missing")
    return out


def work_bounds(n_rows: int, n_columns: int) -> tuple[int, int]:
    """(rows to sample, columns to check) so that their product stays within ``MAX_CELLS``."""
    rows = min(n_rows, SAMPLE_ROWS, max(MIN_SAMPLE_ROWS, MAX_CELLS // max(n_columns, 1)))
    return rows, max(1, MAX_CELLS // max(rows, 1))


def leakage_suspects(frame: pd.DataFrame, target: str, task: str | None,
                     schema: Schema) -> tuple[dict[str, float], int]:
    """Columns whose values alone predict the target (score ≥ 0.98): accuracy of the
    per-value majority class for classification, |Spearman ρ| for regression.

    Returns the suspects and how many candidate columns were left unchecked by the work cap.
    """
    if target not in frame.columns:
        return {}, 0
    regression = task == "regression"
    kinds = (NUMERIC,) if regression else (NUMERIC, CATEGORICAL, "boolean")
    names = [c.name for c in schema.columns if c.name != target and c.kind in kinds and c.name in frame.columns]
    n_rows, n_cols = work_bounds(len(frame), len(names))
    unchecked = max(len(names) - n_cols, 0)
    names = names[:n_cols]
    rows = np.arange(len(frame)) if len(frame) <= n_rows else \
        np.sort(np.random.default_rng(0).choice(len(frame), n_rows, replace=False))
    y = frame[target].iloc[rows]
    keep = y.notna().to_numpy()
    rows, y = rows[keep], y[keep]
    if not names or len(rows) == 0:
        return {}, unchecked
    kind = {c.name: c.kind for c in schema.columns}
    numeric = [n for n in names if kind[n] == NUMERIC]
    values = _numeric_matrix(frame, numeric)[rows]  # rows picked in NumPy: one copy of the table, not two
    if regression:
        scores = _rank_correlations(values, pd.to_numeric(y, errors="coerce").to_numpy(dtype=float))
    else:
        codes = np.empty((len(rows), len(names)), dtype=np.int64)
        is_num = np.array([kind[n] == NUMERIC for n in names], dtype=bool)
        codes[:, is_num] = _numeric_codes(values)
        for i in np.flatnonzero(~is_num):
            codes[:, i] = pd.factorize(frame[names[i]].to_numpy()[rows])[0]
        scores = _majority_scores(codes, y)
    return {n: float(s) for n, s in zip(names, scores) if np.isfinite(s) and s >= LEAKAGE_SCORE}, unchecked


def _numeric_matrix(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The columns as one float matrix (NaN where missing)."""
    if not names:
        return np.empty((len(frame), 0))
    try:
        return frame[names].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):  # a schema from elsewhere may call text digits numeric
        return frame[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _rank_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|Spearman ρ| of every column with ``y``: one matrix product for complete columns, pandas for the rest."""
    ranks = pd.DataFrame(x).rank().to_numpy()
    ry = pd.Series(y).rank().to_numpy()
    complete = ~np.isnan(ranks).any(axis=0)
    out = np.full(x.shape[1], np.nan)
    if complete.any() and np.isfinite(ry).all():
        rx = ranks[:, complete]
        rx, ryc = rx - rx.mean(axis=0), ry - ry.mean()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[complete] = np.abs(ryc @ rx) / np.sqrt((rx ** 2).sum(axis=0) * (ryc ** 2).sum())
    for i in np.flatnonzero(~complete):  # pairs with a missing value drop out: pandas does that per column
        out[i] = abs(pd.Series(x[:, i]).corr(pd.Series(y), method="spearman"))
    return out


def _majority_scores(codes: np.ndarray, y: pd.Series) -> np.ndarray:
    """Per column of value ``codes`` (-1 missing), the share of rows whose class is their value's majority class.

    A column with more distinct values than half the rows is skipped (NaN): near-unique
    values "predict" anything in-sample, which makes them ids, not leaks.
    """
    y_codes, classes = pd.factorize(y)
    baseline = np.bincount(y_codes).max() / len(y_codes)
    out = np.full(codes.shape[1], np.nan)
    if baseline >= LEAKAGE_SCORE:
        return out  # guessing the majority already scores that high: no column can be told apart
    n, k = len(y_codes), len(classes)
    check = _distinct(codes) <= 0.5 * n
    if not check.any():
        return out
    cols = np.flatnonzero(check)
    groups = codes[:, cols].max(axis=0) + 2  # -1 (missing) is a group of its own, as "nan" was in a crosstab
    offsets = np.concatenate([[0], np.cumsum(groups)[:-1]])
    group_of = (codes[:, cols] + 1) + offsets  # one id per (column, value)
    keys, counts = np.unique((group_of * k + y_codes[:, None]).ravel(), return_counts=True)
    cell_group = keys // k
    starts = np.flatnonzero(np.r_[True, cell_group[1:] != cell_group[:-1]])
    majority = np.maximum.reduceat(counts, starts)  # the majority class's rows, per (column, value)
    column_of = np.searchsorted(offsets, cell_group[starts], side="right") - 1
    out[cols] = np.bincount(column_of, weights=majority, minlength=len(cols)) / n
    return out


def _numeric_codes(values: np.ndarray) -> np.ndarray:
    """Codes of numeric columns: the value's rank among distinct values, or its quantile bin when there are
    more than 50 (``pd.qcut(x, 50, duplicates='drop')``'s bins, up to rounding at an edge); -1 for NaN."""
    codes = np.full(values.shape, -1, dtype=np.int64)
    ordered = np.sort(values, axis=0)  # NaN last; one sort gives the distinct counts and the quantiles
    many = _distinct(values, ordered) > QUANTILE_BINS
    few = np.flatnonzero(~many)
    if len(few):
        ranks = pd.DataFrame(values[:, few]).rank(method="dense").to_numpy() - 1
        codes[:, few] = np.where(np.isnan(ranks), -1, ranks).astype(np.int64)
    many = np.flatnonzero(many)
    n_valid = (~np.isnan(ordered[:, many])).sum(axis=0)
    quantiles = np.linspace(0, 1, QUANTILE_BINS + 1)
    step = max(1, CHUNK_CELLS // max(len(values) * len(quantiles), 1))
    for start in range(0, len(many), step):  # chunks bound the (rows, edges, columns) comparison's memory
        cols, valid = many[start:start + step], n_valid[start:start + step]
        block, sorted_block = values[:, cols], ordered[:, cols]
        # np.quantile's linear method, read off the sorted columns (each with its own count of values)
        position = (valid - 1)[None, :] * quantiles[:, None]
        low = np.clip(np.floor(position), 0, valid - 1).astype(np.int64)
        t = position - low
        a = np.take_along_axis(sorted_block, low, axis=0)
        b = np.take_along_axis(sorted_block, np.minimum(low + 1, (valid - 1)[None, :]), axis=0)
        with np.errstate(invalid="ignore"):  # inf - inf: that edge is NaN, harmless here
            edges = np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)
        upper = edges[1:]  # bin b is (edge b, edge b+1]; the lowest bin also holds the minimum itself,
        upper[upper == edges[:1]] = -np.inf  # so an upper edge equal to it counts for every value alike
        below = (upper[None, :, :] < block[:, None, :]).sum(axis=1)
        codes[:, cols] = np.where(np.isnan(block), -1, below)
    return codes


def _distinct(values: np.ndarray, ordered: np.ndarray | None = None) -> np.ndarray:
    """Distinct non-missing values per column (NaN for floats, negative codes for integers are missing)."""
    ordered = np.sort(values, axis=0) if ordered is None else ordered
    present = ~np.isnan(ordered) if ordered.dtype.kind == "f" else ordered >= 0
    return present[:1].sum(axis=0) + ((ordered[1:] != ordered[:-1]) & present[1:]).sum(axis=0)
