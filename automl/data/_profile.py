"""A profile of every column, with the warnings a data scientist would want first.

Leakage suspects are columns that predict the target almost perfectly on
their own: usually a copy or a consequence of the target, which makes a model
look great offline and fail in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.data._schema import CATEGORICAL, CONSTANT, ID, NUMERIC, TEXT, Schema, infer_schema

LEAKAGE_SCORE = 0.98
SAMPLE_ROWS = 50_000


@dataclass
class Profile:
    columns: pd.DataFrame  # one row per column: name, kind, dtype, missing_pct, unique, warnings
    warnings: list[str]
    n_rows: int
    n_columns: int
    memory_mb: float


def profile_table(frame: pd.DataFrame, target: str | None = None, task: str | None = None,
                  schema: Schema | None = None) -> Profile:
    """Profile ``frame``; with a ``target``, also flag columns that leak it."""
    schema = schema or infer_schema(frame)
    sample = frame.sample(SAMPLE_ROWS, random_state=0) if len(frame) > SAMPLE_ROWS else frame
    leaks = leakage_suspects(sample, target, task, schema) if target is not None else {}
    rows, notes = [], []
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


def leakage_suspects(frame: pd.DataFrame, target: str, task: str | None, schema: Schema) -> dict[str, float]:
    """Columns whose values alone predict the target (score ≥ 0.98): accuracy of the
    per-value majority class for classification, |Spearman ρ| for regression."""
    if target not in frame.columns:
        return {}
    y = frame[target]
    keep = y.notna()
    out: dict[str, float] = {}
    regression = task == "regression"
    for col in schema.columns:
        if col.name == target or col.kind not in (NUMERIC, CATEGORICAL, "boolean"):
            continue
        x = frame.loc[keep, col.name]
        if regression:
            if col.kind != NUMERIC:
                continue
            score = abs(pd.to_numeric(x, errors="coerce").corr(y[keep], method="spearman"))
        else:
            if col.kind == NUMERIC and x.nunique() > 50:
                x = pd.qcut(pd.to_numeric(x, errors="coerce"), 50, duplicates="drop")
            if x.nunique() > 0.5 * len(x):
                continue  # near-unique values "predict" anything: that's an id, not a leak
            table = pd.crosstab(x.astype(str), y[keep])
            score = table.max(axis=1).sum() / max(table.values.sum(), 1)
            baseline = y[keep].value_counts(normalize=True).max()
            if baseline >= LEAKAGE_SCORE:
                continue
        if np.isfinite(score) and score >= LEAKAGE_SCORE:
            out[col.name] = float(score)
    return out
