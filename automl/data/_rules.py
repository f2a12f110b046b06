"""Rules every stage must apply the same way, written once.

What counts as one category, how the model's probability columns are named,
and what happens when rows lack a column the model needs. Prediction, the
ONNX runner, the search's tree matrix, monitoring and explanations all call
these, so a value the model reads as the category "2" is "2" everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from automl.errors import DataError

PROBA_PREFIX = "proba_"
MAX_NAMED = 10  # missing columns named in the message; the rest are counted


def canonical_category(value: object) -> str | None:
    """The category a value stands for, as text: 2, 2.0 and '2' are one category; None if missing.

    A whole float loses its '.0' (an integer column with a gap is read as
    floats, and must still match the integers it was trained on); text is
    stripped of surrounding spaces.
    """
    if isinstance(value, str):
        return value.strip()
    missing = pd.isna(value)
    if np.ndim(missing) == 0 and missing:  # None, NaN, NaT, pd.NA (pd.isna of a list is an array: not missing)
        return None
    if isinstance(value, float | np.floating) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def canonical_categories(values: pd.Series) -> pd.Series:
    """:func:`canonical_category` of every row (NaN where missing), converting each distinct value once.

    Once per distinct value, not per row: predictions on big batches stay fast.
    """
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    names = [canonical_category(u) for u in uniques]
    table = np.array([np.nan if n is None else n for n in names] + [np.nan], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def proba_column(label: object) -> str:
    """The name of the column holding the probability of class ``label``: ``proba_<label>``."""
    return f"{PROBA_PREFIX}{label}"


def proba_class(column: object) -> str | None:
    """The class (as text) whose probability ``column`` holds; None if it is not a probability column."""
    name = str(column)
    return name[len(PROBA_PREFIX):] if name.startswith(PROBA_PREFIX) else None


def require_columns(frame: pd.DataFrame, columns: Iterable, *, where: str = "The input",
                    then: str = "predict again") -> None:
    """Raise a :class:`DataError` naming the ``columns`` the model needs that ``frame`` lacks.

    ``where`` names the table in the message ("The live table"); ``then`` is
    what to do once the columns are added ("predict again").
    """
    missing = [str(c) for c in columns if c not in frame.columns]
    if not missing:
        return
    shown = ", ".join(missing[:MAX_NAMED])
    if len(missing) > MAX_NAMED:
        shown += f" and {len(missing) - MAX_NAMED} more"
    raise DataError(f"{where} lacks {len(missing)} column(s) the model was trained on: {shown}.",
                    f"Add those columns (empty values are fine) and {then}.")
