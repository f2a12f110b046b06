"""Checking rows to predict against the training schema, before the model sees them.

The model's own first step (FrameCoercer) already makes raw rows safe; this
module is about *telling* the user: which columns are missing (an error),
which are ignored, which values could not be read (counted per column, and
named per row so a batch file never fails as a whole).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.data import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    MAX_CATEGORIES_STORED,
    NUMERIC,
    Schema,
    canonical_categories,
    canonical_category,
    require_columns,
)

EXAMPLES = 3
SMALL = 64  # rows


@dataclass
class CheckedInput:
    frame: pd.DataFrame  # the model's columns only, typed: floats, category strings, datetimes
    warnings: list[str]
    row_errors: pd.Series  # "" for a clean row, else "col: 'value' is not a number; ..."


def check_rows(frame: pd.DataFrame, schema: Schema) -> CheckedInput:
    """The model's columns, typed, with warnings and each row's problems as text for an ``errors`` column.

    Missing columns raise a DataError naming them.
    """
    features = schema.features
    require_columns(frame, features)
    warnings: list[str] = []
    extra = [str(c) for c in frame.columns if c not in set(features)]
    if extra:
        shown = ", ".join(extra[:10]) + (" …" if len(extra) > 10 else "")
        warnings.append(f"Ignored {len(extra)} column(s) the model does not use: {shown}.")
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        frame = frame.reset_index(drop=True)
    out: dict[str, pd.Series | np.ndarray] = {}
    errors = pd.Series("", index=frame.index, dtype=object)
    for name in features:
        info, raw = schema[name], frame[name]
        if info.kind == NUMERIC:
            out[name], bad = _numbers(raw)
            _flag(warnings, errors, raw, bad, name, "number")
        elif info.kind == DATETIME:
            out[name], bad = _dates(raw)
            _flag(warnings, errors, raw, bad, name, "date")
        elif info.kind in (CATEGORICAL, BOOLEAN):
            out[name] = _categories(raw)
            if info.categories and info.n_unique <= MAX_CATEGORIES_STORED:
                n_unseen, examples = _unseen(out[name], {canonical_category(c) for c in info.categories})
                if n_unseen:
                    shown = ", ".join(repr(v) for v in examples)
                    warnings.append(f"Column '{name}': {n_unseen} value(s) not seen in training "
                                    f"(e.g. {shown}); the model treats them as unknown.")
    return CheckedInput(pd.DataFrame(out, index=frame.index), warnings, errors)


def _unseen(values: pd.Series | np.ndarray, known: set[str]) -> tuple[int, list[str]]:
    """How many values are not among ``known`` categories, and a few of them."""
    if len(values) <= SMALL:
        counts = Counter(v for v in values.tolist() if isinstance(v, str))
    else:
        counts = values.value_counts().to_dict()
    bad = {v: n for v, n in counts.items() if v not in known}
    return int(sum(bad.values())), list(bad)[:EXAMPLES]


def _numbers(raw: pd.Series) -> tuple[pd.Series | np.ndarray, pd.Series | np.ndarray]:
    if raw.dtype.kind in "biuf":  # already numbers (bool as 0/1): plain arrays, no per-column Series to build
        return raw.to_numpy(dtype="float64", na_value=np.nan, copy=True), np.zeros(len(raw), dtype=bool)
    text = raw.astype(object).where(raw.notna(), None)
    cleaned = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    cleaned = cleaned.where(cleaned != "", None)
    values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    return values, values.isna() & cleaned.notna()


def _dates(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw, pd.Series(False, index=raw.index)
    values = pd.to_datetime(raw, errors="coerce", format="mixed")
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    return values, values.isna() & present


def _categories(raw: pd.Series) -> pd.Series | np.ndarray:
    """The model's own rule (2, 2.0 and '2' are one category); blank text counts as missing here."""
    if len(raw) <= SMALL:  # a form or API request: plain Python beats pandas' per-call overhead
        mapped = [canonical_category(v) for v in raw.tolist()]
        out = np.empty(len(mapped), dtype=object)
        out[:] = [np.nan if v is None or v == "" else v for v in mapped]
        return out
    values = canonical_categories(raw)
    return values.where(values != "", np.nan)


def _flag(warnings: list[str], errors: pd.Series, raw: pd.Series, bad: pd.Series, name: str, what: str) -> None:
    """Count unreadable values in a warning, and name each one in its row's error text."""
    if not bad.any():
        return
    examples = ", ".join(repr(v) for v in raw[bad].astype(str).unique()[:EXAMPLES])
    warnings.append(f"Column '{name}': {int(bad.sum())} value(s) can't be read as a {what} (e.g. {examples}); "
                    "they are treated as missing.")
    article = "an" if what[0] in "aeiou" else "a"
    note = raw[bad].astype(str).map(lambda v: f"{name}: {v!r} is not {article} {what} (treated as missing)")
    errors.loc[bad] = [f"{e}; {n}" if e else n for e, n in zip(errors[bad], note)]
