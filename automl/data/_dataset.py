"""From a raw table and a target name to a :class:`Dataset` that can be learned from.

Every reason a table can't be learned from is raised here, once, as a
:class:`DataError` naming the problem and the fix, so the CLI, the dashboard
and the tests all see the same words.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.data._coerce import WARNINGS_KEY
from automl.data._profile import column_warnings
from automl.data._read import read_table
from automl.data._schema import Schema, infer_schema
from automl.errors import DataError

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)
MIN_ROWS = 20
MAX_CLASSES = 100
MAX_ABS_TARGET = 1e150  # squared errors of larger values overflow float64


@dataclass
class Dataset:
    """Features, target and what we know about them, ready for the search."""

    X: pd.DataFrame
    y: pd.Series
    target: str
    task: str
    schema: Schema
    dropped_missing_target: int = 0
    warnings: list[str] = field(default_factory=list)  # what the Data page and ``automl fit`` show before training

    @property
    def classes(self) -> list:
        """Class labels in sorted order (the order of ``predict_proba`` columns)."""
        return sorted(self.y.unique().tolist()) if self.task != REGRESSION else []

    @property
    def is_classification(self) -> bool:
        return self.task != REGRESSION


def detect_task(y: pd.Series) -> str:
    """Guess binary / multiclass / regression from the target's values.

    Integer-valued targets with few distinct values (e.g. a 3–9 quality score)
    are classes; anything continuous or with many values is regression.
    """
    values = y.dropna()
    n_unique = values.nunique()
    if n_unique <= 2:
        return BINARY
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return MULTICLASS
    numbers = values.to_numpy(dtype=float)
    integer_valued = bool(np.all(np.isclose(numbers, np.round(numbers))))
    if integer_valued and n_unique <= min(20, max(3, int(0.05 * len(values)))):
        return MULTICLASS
    return REGRESSION


def load_dataset(source, target: str, task: str | None = None, cv_folds: int = 5,
                 name: str | None = None, exclude: tuple[str, ...] = ()) -> Dataset:
    """Read a file (path or bytes) and prepare it; see :func:`prepare_dataset`."""
    return prepare_dataset(read_table(source, name=name), target, task=task, cv_folds=cv_folds, exclude=exclude)


def prepare_dataset(frame: pd.DataFrame, target: str, task: str | None = None, cv_folds: int = 5,
                    exclude: tuple[str, ...] = ()) -> Dataset:
    """Check the table, drop rows whose target is missing, infer schema and task.

    ``exclude`` names columns the user does not want as features (kept out of the model).
    """
    if target not in frame.columns:
        close = difflib.get_close_matches(str(target), [str(c) for c in frame.columns], n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise DataError(f"The target column '{target}' is not in the table.{hint}",
                        f"Pick one of the table's columns: {', '.join(map(str, frame.columns[:20]))}"
                        + (" …" if frame.shape[1] > 20 else "") + ".")
    reader_notes = list(frame.attrs.get(WARNINGS_KEY, []))
    y_all = frame[target]
    if not pd.api.types.is_numeric_dtype(y_all) and not pd.api.types.is_bool_dtype(y_all):
        # 'yes' and 'yes ' are one class (at predict time too: categories are stripped the same way)
        y_all = strip_labels(y_all)
        frame = frame.copy(deep=False)
        frame[target] = y_all
    missing = y_all.isna()
    if missing.all():
        raise DataError(f"The target column '{target}' is empty on every row.",
                        "Pick a column that has values to learn from.")
    frame = frame.loc[~missing] if missing.any() else frame
    y = frame[target]
    if y.nunique() < 2:
        raise DataError(f"The target column '{target}' has the single value {y.iloc[0]!r} on every row, "
                        "so there is nothing to predict.", "Pick a column whose value varies between rows.")
    if len(frame) < MIN_ROWS:
        raise DataError(f"Only {len(frame)} rows have a target value; at least {MIN_ROWS} are needed.",
                        "Add more rows to the table.")
    task = task or detect_task(y)
    if task not in TASKS:
        raise DataError(f"Unknown task '{task}'.", f"Use one of {', '.join(TASKS)}.")
    y = _check_target(y, target, task, cv_folds)
    X = frame.drop(columns=[target])
    schema = infer_schema(X)
    usable = [c for c in schema.features if c not in exclude]
    if not usable:
        reasons = "; ".join(f"'{c.name}': {c.reason or c.kind}" for c in schema.columns[:10])
        raise DataError(f"No column can be used as a feature ({reasons}).",
                        "Add columns with numbers, categories or dates that relate to the target.")
    for col in schema.columns:
        if col.name in exclude and col.usable:
            col.kind, col.reason = "id", "excluded by the user"
    notes = [*reader_notes, *(f"'{c.name}': {w}" for c in schema.columns for w in column_warnings(c, len(X)))]
    if missing.any():
        notes.append(f"{int(missing.sum())} row(s) without a value of '{target}' left out")
    return Dataset(X=X, y=y, target=target, task=task, schema=schema, dropped_missing_target=int(missing.sum()),
                   warnings=notes)


def strip_labels(y: pd.Series) -> pd.Series:
    """Class labels without surrounding spaces; a blank label is a missing one."""
    stripped = y.map(lambda v: v.strip() if isinstance(v, str) else v)
    return stripped.where(stripped.map(lambda v: v != ""), np.nan).astype(object)


def _check_finite(y: pd.Series, target: str) -> None:
    numbers = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)
    infinite = int(np.isinf(numbers).sum())
    if infinite:
        raise DataError(f"The target '{target}' has {infinite} infinite value(s) (inf or -inf).",
                        "Remove those rows or replace the values with real numbers (empty cells are left out).")
    huge = int((np.abs(numbers[np.isfinite(numbers)]) > MAX_ABS_TARGET).sum())
    if huge:
        raise DataError(f"The target '{target}' has {huge} value(s) beyond ±{MAX_ABS_TARGET:g}, so squared errors "
                        "overflow and every score would be infinite.",
                        "Rescale the target (e.g. to thousands or a logarithm), or remove those rows.")


def _check_target(y: pd.Series, target: str, task: str, cv_folds: int) -> pd.Series:
    if task == REGRESSION or pd.api.types.is_numeric_dtype(y):
        _check_finite(y, target)
    if task == REGRESSION:
        numbers = pd.to_numeric(y, errors="coerce")
        bad = numbers.isna()
        if bad.any():
            example = y[bad].iloc[0]
            raise DataError(f"The target '{target}' has non-numeric values (e.g. {example!r}), "
                            "so it can't be a regression target.",
                            "Choose the binary or multiclass task, or clean the column.")
        return numbers.astype(float)
    counts = y.value_counts()
    if task == BINARY and len(counts) != 2:
        raise DataError(f"The task is binary but '{target}' has {len(counts)} classes.",
                        "Choose the multiclass task, or a target with two values.")
    if len(counts) > MAX_CLASSES:
        raise DataError(f"The target '{target}' has {len(counts)} classes, more than {MAX_CLASSES}.",
                        "Choose the regression task if it is a quantity, or group the classes.")
    rare = counts[counts < cv_folds]
    if len(rare):
        listed = ", ".join(f"{k!r} ({v} rows)" for k, v in rare.items())
        raise DataError(f"The class(es) {listed} of '{target}' have fewer rows than the {cv_folds} "
                        "cross-validation folds.",
                        "Remove or merge those classes, add rows for them, or use fewer CV folds.")
    # Mixed int/str labels would break sorting and encoders; keep one type.
    if y.map(type).nunique() > 1:
        y = y.astype(str)
    return y
