"""CSV files a spreadsheet opens as data, never as formulas (OWASP's "CSV injection" rule).

A cell or header that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by Excel, LibreOffice and Google Sheets
(``=HYPERLINK(…)`` leaks data on a click). Such text gets a leading ``'``,
which spreadsheets show as text. Numbers stay numbers: a float column, or text
that is just a number such as ``-1.5``, is written as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def escape_cell(value: object) -> object:
    """``value`` with the ``'`` prefix if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return PREFIX + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers are escaped; numeric, date and bool columns untouched."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        elif not (pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)):
            continue
        risky = column.astype(object).map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
        if risky.any():  # the per-cell check only on the few cells that start like a formula
            out.isetitem(i, column.astype(object).where(~risky, column[risky].map(escape_cell)))
    out.columns = [escape_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def to_safe_csv(frame: pd.DataFrame, path: str | Path | None = None) -> str | None:
    """Write ``frame`` (without its index) as a spreadsheet-safe CSV to ``path``; without one, return the text."""
    return spreadsheet_safe(frame).to_csv(path, index=False)
