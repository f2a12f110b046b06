"""What to tell someone who typed one row by hand, before they trust its prediction, and how to show it.

A batch is checked by :func:`automl.deploy._input_check.check_rows` (types, unseen categories). A typed
row has its own risks: most fields left empty (the model then predicts a typical row, not theirs) and a
number outside what the model saw in training (trees predict the edge value there, linear models go on).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from automl.data import NUMERIC, Schema

MOST_EMPTY = 0.5  # warn when more than this share of the fields is empty
MAX_DECIMALS = 4


def form_warnings(schema: Schema, row: dict[str, Any]) -> list[str]:
    """Sentences for a typed row: too many empty fields, numbers outside the training range."""
    columns = [c for c in schema.columns if c.usable]
    empty = [c.name for c in columns if _is_empty(row.get(c.name))]
    out = []
    if columns and len(empty) / len(columns) > MOST_EMPTY:
        out.append(f"{len(empty)} of {len(columns)} fields are empty: the model fills them in as missing values, "
                   "so this prediction is for a vague, typical row rather than a real one. Fill in more fields.")
    for col in columns:
        value = row.get(col.name)
        if col.kind != NUMERIC or _is_empty(value) or col.minimum is None or col.maximum is None:
            continue
        if not col.minimum <= float(value) <= col.maximum:
            out.append(f"{col.name} = {format_number(float(value))} lies outside the training range "
                       f"{format_number(col.minimum)} – {format_number(col.maximum)}: the model has seen no row "
                       "like it, so treat this prediction with care.")
    return out


def decimals_like(values: pd.Series) -> int:
    """How many decimals the training values use (0 for whole numbers such as prices), at most 4."""
    numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)[:10_000]
    if not len(numbers):
        return MAX_DECIMALS
    for decimals in range(MAX_DECIMALS + 1):
        if np.allclose(numbers, np.round(numbers, decimals), rtol=0, atol=1e-9):
            return decimals
    return MAX_DECIMALS


def format_number(value: float, decimals: int | None = None) -> str:
    """A number as people write it: thousands separated, ``decimals`` places (else up to 4 significant ones)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if decimals is None:
        magnitude = math.floor(math.log10(abs(value))) if value else 0
        decimals = min(max(3 - magnitude, 0), MAX_DECIMALS)
        text = f"{value:,.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{value:,.{decimals}f}"


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str)
                                                                                and not value.strip())
