"""Number columns that were read as text: thousands separators, decimal commas, a few stray words.

Why: a numeric column with one "n/a?" or "unknown" in it is read as text, becomes a category with a
thousand values and is learned from badly, in silence. When almost every value is a number, the column is
a number column; the few others become missing, and a warning says how many.
"""

from __future__ import annotations

import pandas as pd

MAX_STRAY_SHARE = 0.05  # at most this share of the present values may be words
MIN_DISTINCT = 10  # fewer distinct numbers (and a word): codes of categories, left as they are
WARNINGS_KEY = "automl_warnings"  # where read_table leaves its warnings (DataFrame.attrs)


def parse_numbers(values: pd.Series, decimal: str = ".", thousands: str | None = None) -> pd.Series:
    """Text written with this decimal mark and thousands separator, as floats (NaN where not a number)."""
    text = values.astype(str).str.strip()
    if thousands:
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def coerce_numbers(frame: pd.DataFrame, decimal: str = ".", thousands: str | None = None) -> list[str]:
    """Turn text columns that are (almost all) numbers into floats, in place; return the warnings."""
    notes: list[str] = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column) \
                or pd.api.types.is_bool_dtype(column):
            continue
        if not _any_digit(column):
            continue  # words only (most text columns): nothing here reads as a number
        present = column.dropna()
        if present.empty:
            continue
        if isinstance(present.dtype, pd.CategoricalDtype):
            present = present.astype(object)
        if present.map(type).eq(bool).any():
            continue  # True/False mixed in: a boolean column, not numbers
        numbers = parse_numbers(present, decimal, thousands)
        stray = numbers.isna()
        n_stray = int(stray.sum())
        if n_stray == len(present) or n_stray > MAX_STRAY_SHARE * len(present):
            continue
        if n_stray and numbers.nunique() < MIN_DISTINCT:
            continue
        frame[name] = parse_numbers(column, decimal, thousands).where(column.notna())
        if n_stray:
            examples = ", ".join(repr(v) for v in pd.unique(present[stray].astype(str))[:3])
            notes.append(f"'{name}': read as numbers; {n_stray} value(s) that are not numbers ({examples}) "
                         "became missing")
    return notes


def _any_digit(column: pd.Series) -> bool:
    """Whether any value may be a number, checked once per distinct value: a table of 4,000 word columns
    skips the parse (5.6 s of its 6.4 s read)."""
    return any(not isinstance(v, str) or any(c.isdigit() for c in v)
               for v in pd.unique(column.to_numpy()) if not (v is None or v != v))
