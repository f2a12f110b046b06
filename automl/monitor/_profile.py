"""Column profiles: how the reference summarises a training column, and how live rows are counted against it.

A profile holds a column's missing rate and either quantiles with an
equal-frequency histogram (numbers, dates as epoch seconds) or the counts of
its most frequent categories. It also defines the buckets (bins, values or
categories) live rows are counted in, so both sides of every drift test are
converted by the same code here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from automl.data import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, canonical_category

QUANTILES = (0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100)
MAX_CATEGORIES = 50  # categories with their own count; the rest share the OTHER bucket
MAX_SEEN = 1000  # category names remembered, to tell "rare" from "never seen"
MAX_VALUES = 20  # numbers with at most this many distinct values also keep exact value counts
OTHER = "__other__"  # bucket for categories beyond the stored ones and for unseen ones
N_BINS = 20
BELOW, ABOVE = "below the training range", "above the training range"


# -- column conversion (shared by the reference and the live side) ------------------------
def category_strings(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, canonical uniques): each row's index into the uniques, -1 if missing; factorised once, not per row."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    names = [canonical_category(u) for u in uniques]
    index = {n: i for i, n in enumerate(dict.fromkeys(n for n in names if n is not None))}
    table = np.array([-1 if n is None else index[n] for n in names] + [-1], dtype=np.int64)
    return table[codes], np.array(list(index), dtype=object)


def numbers(series: pd.Series, kind: str) -> np.ndarray:
    """A column as floats (dates as epoch seconds), NaN where missing or unparsable."""
    if kind == DATETIME:
        parsed = series
        if not pd.api.types.is_datetime64_any_dtype(series):
            parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(None)
        out = parsed.astype("datetime64[ns]").to_numpy().astype("int64").astype(float) / 1e9
        return np.where(parsed.isna().to_numpy(), np.nan, out)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def quantile_edges(values: np.ndarray, bins: int = N_BINS) -> np.ndarray:
    """Equal-frequency bin edges (duplicates merged), so every bin holds reference mass."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    return edges if len(edges) > 1 else np.array([edges[0] - 0.5, edges[0] + 0.5])


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value on the reference's edges (outside values go to the end bins), -1 if missing."""
    values = np.asarray(values, dtype=float)
    codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return np.where(np.isfinite(values), codes, -1)


def range_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bucket of each value on ``edges`` plus a bucket on each side: 0 below the first edge, 1…k the bins
    (the last one closed, so the training maximum is in it), k + 1 above the last edge; -1 if missing.

    Live values beyond the training range get buckets of their own rather than
    joining the end bins, where a shift past the training maximum would vanish.
    """
    values = np.asarray(values, dtype=float)
    k = len(edges) - 1
    codes = np.searchsorted(edges, values, side="right")  # 0: below; k + 1: at or above the last edge
    codes = np.where(values == edges[-1], k, codes)
    return np.where(np.isfinite(values), codes, -1)


# -- profiles --------------------------------------------------------------------------------
def numeric_profile(values: np.ndarray, kind: str = NUMERIC) -> dict[str, Any]:
    """Missing rate, quantiles, mean/std, distinct count, equal-frequency histogram (and value counts if few)."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    out: dict[str, Any] = {"kind": kind, "profile": NUMERIC, "rows": int(len(values)),
                           "missing_rate": float(1 - len(finite) / len(values)) if len(values) else 0.0}
    if not len(finite):
        return {**out, "n_distinct": 0, "edges": [0.0, 1.0], "counts": [0]}
    distinct, counts = np.unique(finite, return_counts=True)
    edges = quantile_edges(finite)
    codes = bin_codes(finite, edges)
    out.update(quantiles={str(q): float(v) for q, v in zip(QUANTILES, np.percentile(finite, QUANTILES))},
               mean=float(finite.mean()), std=float(finite.std()), n_distinct=int(len(distinct)),
               edges=edges.tolist(), counts=np.bincount(codes, minlength=len(edges) - 1).tolist())
    if len(distinct) <= MAX_VALUES:
        out.update(values=distinct.tolist(), value_counts=counts.tolist())
    return out


def categorical_profile(series: pd.Series, kind: str = CATEGORICAL) -> dict[str, Any]:
    """Missing rate and the counts of the most frequent categories, the rest pooled as ``other``."""
    codes, names = category_strings(series)
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    order = np.argsort(-counts, kind="stable")
    top = order[:MAX_CATEGORIES]
    return {"kind": kind, "profile": CATEGORICAL, "rows": int(len(series)),
            "missing_rate": float((codes < 0).mean()) if len(codes) else 0.0, "n_distinct": int(len(names)),
            "categories": names[top].tolist(), "counts": counts[top].tolist(),
            "other": int(counts[order[MAX_CATEGORIES:]].sum()), "seen": names[order[:MAX_SEEN]].tolist()}


def profile_column(series: pd.Series, kind: str) -> dict[str, Any]:
    if kind in (CATEGORICAL, BOOLEAN):
        return categorical_profile(series, kind)
    return numeric_profile(numbers(series, kind), kind)


def sample_values(profile: dict[str, Any], series: pd.Series) -> list:
    """A column's raw values as the tests read them (floats or canonical strings), JSON-ready."""
    if profile["profile"] == NUMERIC:
        arr = numbers(series, profile["kind"])
        return [None if np.isnan(v) else float(v) for v in arr]
    codes, names = category_strings(series)
    return [None if c < 0 else names[c] for c in codes]


# -- buckets of a profile: how live rows are counted against it ------------------------------
def buckets(profile: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """Bucket labels and the reference's counts in them (values or categories end with OTHER; binned
    numbers have a bucket below and one above the training range, empty in the reference)."""
    if profile["profile"] == CATEGORICAL:
        return [*profile["categories"], OTHER], np.array([*profile["counts"], profile["other"]], dtype=float)
    if "values" in profile:
        return ([_number_label(v) for v in profile["values"]] + [OTHER],
                np.array([*profile["value_counts"], 0], dtype=float))
    edges = profile["edges"]
    labels = [f"[{_number_label(a)}, {_number_label(b)})" for a, b in zip(edges[:-1], edges[1:])]
    return [BELOW, *labels, ABOVE], np.array([0, *profile["counts"], 0], dtype=float)


def bucket_codes(profile: dict[str, Any], series: pd.Series) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(bucket index per row (-1 missing), float values or None, categories never seen in training)."""
    if profile["profile"] == CATEGORICAL:
        codes, names = category_strings(series)
        lookup = {c: i for i, c in enumerate(profile["categories"])}
        other = len(profile["categories"])
        table = np.array([lookup.get(n, other) for n in names] + [-1], dtype=np.int64)
        seen = set(profile.get("seen", [])) | set(lookup)
        new = [n for n in names if n not in seen]
        if new:
            counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(names)), index=names)
            new = counts[new].sort_values(ascending=False).index.tolist()
        return table[codes], None, new
    values = numbers(series, profile["kind"])
    if "values" in profile:
        known = np.asarray(profile["values"], dtype=float)
        idx = np.clip(np.searchsorted(known, values), 0, len(known) - 1)
        codes = np.where(known[idx] == values, idx, len(known))
        return np.where(np.isfinite(values), codes, -1), values, []
    return range_codes(values, np.asarray(profile["edges"], dtype=float)), values, []


def _number_label(value: float) -> str:
    return f"{value:.4g}"
