"""What each column is, inferred once and stored with the experiment.

The schema drives preprocessing (which encoder per column), the prediction
form (ranges, categories), input checks at predict time and monitoring.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from automl.data._rules import canonical_categories

NUMERIC, CATEGORICAL, BOOLEAN, DATETIME, TEXT, ID, CONSTANT = (
    "numeric", "categorical", "boolean", "datetime", "text", "id", "constant")
KINDS = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME, TEXT, ID, CONSTANT)
# Kinds the model learns from; the others are kept in the table but dropped, with a reason.
USABLE_KINDS = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)
HIGH_CARDINALITY = 50
MAX_CATEGORIES_STORED = 200
BOOL_TOKENS = {"true", "false", "yes", "no", "y", "n", "t", "f", "0", "1"}


@dataclass
class ColumnInfo:
    """One column's inferred kind and the facts later stages need."""

    name: str
    kind: str
    dtype: str
    n_missing: int
    n_unique: int
    reason: str = ""  # why it is not used as a feature, if it isn't
    categories: list[str] = field(default_factory=list)  # most frequent first, capped
    minimum: float | None = None
    maximum: float | None = None

    @property
    def usable(self) -> bool:
        return self.kind in USABLE_KINDS

    @property
    def high_cardinality(self) -> bool:
        return self.kind == CATEGORICAL and self.n_unique > HIGH_CARDINALITY


@dataclass
class Schema:
    """The columns of a training table, target excluded, in their original order."""

    columns: list[ColumnInfo]
    n_rows: int

    def __getitem__(self, name: str) -> ColumnInfo:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def features(self) -> list[str]:
        """Columns the model uses."""
        return [c.name for c in self.columns if c.usable]

    def of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    def to_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        return cls(columns=[ColumnInfo(**c) for c in data["columns"]], n_rows=int(data["n_rows"]))


def infer_schema(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> Schema:
    """Infer the kind of every column of ``frame`` except those in ``exclude``."""
    names = [name for name in frame.columns if name not in exclude]
    fast = _plain_numeric_columns(frame, names)
    cols = [fast.get(i) or infer_column(frame[name]) for i, name in enumerate(names)]
    return Schema(columns=cols, n_rows=len(frame))


def _plain_numeric_columns(frame: pd.DataFrame, names: list) -> dict[int, ColumnInfo]:
    """The columns :func:`infer_column` would call numeric, found for all of them at once in NumPy.

    Only NumPy int/float columns whose answer is plainly "numeric" (neither constant, two-valued nor
    id-like): the others go through :func:`infer_column`. A 5,000-column table infers in a fraction of the
    per-column time.
    """
    if not frame.columns.is_unique or len(frame) == 0:
        return {}
    dtypes = frame.dtypes[names].tolist()
    picked = [i for i, dtype in enumerate(dtypes) if isinstance(dtype, np.dtype) and dtype.kind in "iuf"]
    if len(picked) < 50:  # per column is as fast for a few
        return {}
    values = frame[[names[i] for i in picked]].to_numpy(dtype=float)
    ordered = np.sort(values, axis=0)  # NaN last
    present = ~np.isnan(ordered)
    n_unique = present[:1].sum(axis=0) + ((ordered[1:] != ordered[:-1]) & present[1:]).sum(axis=0)
    n_missing = len(frame) - present.sum(axis=0)
    out = {}
    for j, i in enumerate(picked):
        if n_unique[j] <= 2 or (dtypes[i].kind in "iu" and n_unique[j] >= 0.99 * len(frame)):
            continue  # constant, maybe boolean, maybe an id: infer_column decides
        out[i] = ColumnInfo(name=str(names[i]), kind=NUMERIC, dtype=str(dtypes[i]), n_missing=int(n_missing[j]),
                            n_unique=int(n_unique[j]), minimum=float(ordered[0, j]),
                            maximum=float(ordered[present[:, j].sum() - 1, j]))
    return out


def infer_column(series: pd.Series) -> ColumnInfo:
    """Infer one column's kind from its dtype and values."""
    n = len(series)
    non_null = series.dropna()
    n_missing = int(n - len(non_null))
    n_unique = int(non_null.nunique())
    info = ColumnInfo(name=str(series.name), kind=CATEGORICAL, dtype=str(series.dtype),
                      n_missing=n_missing, n_unique=n_unique)
    if n_unique <= 1:
        info.kind, info.reason = CONSTANT, ("all values missing" if n_unique == 0 else "a single value")
    elif pd.api.types.is_bool_dtype(series) or (n_unique == 2 and _bool_like(non_null)):
        info.kind = BOOLEAN
    elif pd.api.types.is_datetime64_any_dtype(series):
        info.kind = DATETIME
    elif pd.api.types.is_numeric_dtype(series):
        info.kind = ID if _numeric_id_like(non_null, n) else NUMERIC
        if info.kind == ID:
            info.reason = "a different value on every row, in order (a row number or key)"
    elif _parses_as_dates(non_null):
        info.kind = DATETIME
    else:
        info.kind = _string_kind(non_null, n)
        if info.kind == TEXT:
            info.reason = "free text (a different sentence on most rows)"
        elif info.kind == ID:
            info.reason = "a different value on every row (an identifier)"
    if info.kind == NUMERIC:
        values = pd.to_numeric(non_null, errors="coerce")
        info.minimum, info.maximum = float(values.min()), float(values.max())
    elif info.kind == DATETIME:
        parsed = to_datetime(non_null)
        info.minimum, info.maximum = float(parsed.min().timestamp()), float(parsed.max().timestamp())
    elif info.kind in (CATEGORICAL, BOOLEAN):
        counts = canonical_categories(non_null).value_counts()  # named as the model will see them
        info.categories = counts.index[:MAX_CATEGORIES_STORED].tolist()
    return info


def to_datetime(series: pd.Series) -> pd.Series:
    """Parse dates the way inference did, unparsable values becoming NaT."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    return pd.to_datetime(series, errors="coerce", format="mixed")


def _bool_like(values: pd.Series) -> bool:
    return set(values.astype(str).str.strip().str.lower().unique()) <= BOOL_TOKENS


def _numeric_id_like(values: pd.Series, n_rows: int) -> bool:
    if n_rows < 50 or not pd.api.types.is_integer_dtype(values) or values.nunique() < 0.99 * n_rows:
        return False
    diffs = np.diff(values.to_numpy())
    return bool((diffs > 0).mean() > 0.95 or (diffs < 0).mean() > 0.95)


def _parses_as_dates(values: pd.Series) -> bool:
    # Dates hold digits: a column of words is told apart once per distinct value, not by regexes per row.
    if not all(any(c.isdigit() for c in str(v)) for v in pd.unique(values.to_numpy()[:200])):
        return False
    sample = values.astype(str).head(200)
    if sample.str.len().median() < 6 or not sample.str.contains(r"\d").all():
        return False
    if not sample.str.contains(r"[-/:.]").mean() > 0.9:
        return False
    try:
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(parsed.notna().mean() > 0.95)


def _string_kind(values: pd.Series, n_rows: int) -> str:
    strings = values.astype(str)
    unique_ratio = values.nunique() / max(len(values), 1)
    if unique_ratio > 0.5 and len(values) >= 20:
        words = strings.str.count(r"\s+").mean() + 1
        if words >= 3 or strings.str.len().mean() > 30:
            return TEXT
        if unique_ratio > 0.95:
            return ID
    return CATEGORICAL
