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

from automl.data._schema import CATEGORICAL, CONSTANT, ID, NUMERIC, TEXT, Schema, infer_column, infer_schema

LEAKAGE_SCORE = 0.98
SAMPLE_ROWS = 50_000
MAX_CELLS = 2_000_000  # sampled rows × checked columns: the leakage check's whole budget
MIN_SAMPLE_ROWS = 500  # below this a wide table checks fewer columns rather than fewer rows
QUANTILE_BINS = 50


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
    leaks, notes = {}, []
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
                   memory_mb=round(frame.memory_usage(deep=True).sum() / 1e6, 2))


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
    sample = frame.sample(n_rows, random_state=0) if len(frame) > n_rows else frame
    y = sample[target]
    keep = y.notna().to_numpy()
    if not names or keep.sum() == 0:
        return {}, unchecked
    sample, y = sample.loc[keep, names], y[keep]
    numeric = {c.name for c in schema.columns if c.kind == NUMERIC}
    scores = _rank_correlations(sample, pd.to_numeric(y, errors="coerce")) if regression \
        else _majority_scores(sample, y, numeric)
    return {n: float(s) for n, s in zip(names, scores) if np.isfinite(s) and s >= LEAKAGE_SCORE}, unchecked


def _rank_correlations(x: pd.DataFrame, y: pd.Series) -> np.ndarray:
    """|Spearman ρ| of every column with ``y``: one matrix product for complete columns, pandas for the rest."""
    ranks = x.rank()
    ry = y.rank().to_numpy(dtype=float)
    complete = ranks.notna().all().to_numpy()
    out = np.full(x.shape[1], np.nan)
    if complete.any() and np.isfinite(ry).all():
        rx = ranks.loc[:, complete].to_numpy(dtype=float)
        rx, ryc = rx - rx.mean(axis=0), ry - ry.mean()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[complete] = np.abs(ryc @ rx) / np.sqrt((rx ** 2).sum(axis=0) * (ryc ** 2).sum())
    for i in np.flatnonzero(~complete):  # pairs with a missing value drop out: pandas does that per column
        out[i] = abs(pd.to_numeric(x.iloc[:, i], errors="coerce").corr(y, method="spearman"))
    return out


def _majority_scores(x: pd.DataFrame, y: pd.Series, numeric: set[str]) -> np.ndarray:
    """Per column, the share of rows whose class is their value's majority class.

    Many-valued numbers are cut into 50 quantile bins (as ``pd.qcut``); a column with
    more distinct values than half the rows is skipped (NaN): near-unique values
    "predict" anything in-sample, which makes them ids, not leaks.
    """
    y_codes, classes = pd.factorize(y)
    baseline = np.bincount(y_codes).max() / len(y_codes)
    out = np.full(x.shape[1], np.nan)
    if baseline >= LEAKAGE_SCORE:
        return out  # guessing the majority already scores that high: no column can be told apart
    n, k = len(y_codes), len(classes)
    codes = _code_matrix(x, numeric)
    groups = codes.max(axis=0) + 2  # -1 (missing) is a group of its own, as "nan" was in a crosstab
    distinct = np.array([np.unique(codes[codes[:, i] >= 0, i]).size for i in range(codes.shape[1])])
    check = distinct <= 0.5 * n
    if not check.any():
        return out
    cols = np.flatnonzero(check)
    offsets = np.concatenate([[0], np.cumsum(groups[cols])[:-1]])
    group_of = (codes[:, cols] + 1) + offsets  # one id per (column, value)
    keys, counts = np.unique((group_of * k + y_codes[:, None]).ravel(), return_counts=True)
    cell_group = keys // k
    starts = np.flatnonzero(np.r_[True, cell_group[1:] != cell_group[:-1]])
    majority = np.maximum.reduceat(counts, starts)  # the majority class's rows, per (column, value)
    column_of = np.searchsorted(offsets, cell_group[starts], side="right") - 1
    out[cols] = np.bincount(column_of, weights=majority, minlength=len(cols)) / n
    return out


def _code_matrix(x: pd.DataFrame, numeric: set[str]) -> np.ndarray:
    """Integer codes of every column's values (-1 when missing), many-valued numbers as quantile bins.

    Numeric columns go through NumPy as one matrix; only text columns are factorized one by one.
    """
    codes = np.empty(x.shape, dtype=np.int64)
    with np.errstate(invalid="ignore"):  # inf - inf inside quantiles: those edges are NaN, harmless here
        _fill_codes(x, numeric, codes)
    return codes


def _fill_codes(x: pd.DataFrame, numeric: set[str], codes: np.ndarray) -> None:
    is_num = np.array([name in numeric for name in x.columns], dtype=bool)
    for i, (_, series) in zip(np.flatnonzero(~is_num), x.loc[:, ~is_num].items()):
        codes[:, i] = pd.factorize(series)[0]
    if not is_num.any():
        return
    try:
        values = x.loc[:, is_num].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):  # a schema from elsewhere may call text digits numeric
        values = x.loc[:, is_num].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ordered = np.sort(values, axis=0)  # NaN last
    distinct = (~np.isnan(ordered[:1])).sum(axis=0) + ((np.diff(ordered, axis=0) != 0)
                                                       & ~np.isnan(ordered[1:])).sum(axis=0)
    quantiles = np.linspace(0, 1, QUANTILE_BINS + 1)
    complete = ~np.isnan(values).any(axis=0)
    edges = np.quantile(values[:, complete], quantiles, axis=0) if complete.any() else None
    edge_of = dict(zip(np.flatnonzero(complete), range(int(complete.sum()))))
    for j, i in enumerate(np.flatnonzero(is_num)):
        col, present = values[:, j], ~np.isnan(values[:, j])
        if distinct[j] > QUANTILE_BINS:
            cut = edges[:, edge_of[j]] if j in edge_of else np.quantile(col[present], quantiles)
            # the bin (cut[b-1], cut[b]] as pd.qcut (right-closed, lowest included; equal edges merge)
            col_codes = np.maximum(np.searchsorted(cut, col, side="left"), 1) - 1
        else:
            col_codes = np.searchsorted(np.unique(col[present]), col)
        codes[:, i] = np.where(present, col_codes, -1)
