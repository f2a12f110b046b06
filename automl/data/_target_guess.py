"""A first guess at the column to predict, so the Data page opens on a sensible target and says it guessed.

The last column is the convention of many exported tables, but not of all: diamonds ends with ``z`` (a
dimension), its target ``price`` sits in the middle. A column named like an outcome wins over position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

# ("default" is left out: in credit tables it is often a feature, "has credit in default".)
# Strongest first: a column called "target" beats one called "price"; "y" comes last because tables of
# coordinates or dimensions (diamonds: x, y, z) have it as a feature.
LABEL_NAMES: tuple[frozenset[str], ...] = (
    frozenset({"target", "label", "labels", "class", "outcome", "ytrue", "response"}),
    frozenset({"churn", "churned", "survived", "defaulted", "fraud", "isfraud", "diagnosis",
               "price", "saleprice", "income", "salary", "quality", "result", "status", "approved", "converted"}),
    frozenset({"y"}),
)


@dataclass(frozen=True)
class TargetGuess:
    column: str
    reason: str  # shown to the user: why this column


LABEL_ENDINGS = ("price", "value", "target", "label")  # median_house_value, sale_price, churn_label


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _ends_like_a_label(name: object) -> bool:
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name)).lower())
    return len(words) > 1 and words[-1] in LABEL_ENDINGS


def guess_target(frame: pd.DataFrame) -> TargetGuess:
    """The column named most like a label (the last such one), else the last column; with the reason."""
    columns = list(frame.columns)
    if not columns:
        raise ValueError("a table without columns has no target")
    for names in LABEL_NAMES:
        named = [c for c in columns if _key(c) in names and frame[c].nunique(dropna=True) > 1]
        if named:
            return TargetGuess(str(named[-1]), f"its name '{named[-1]}' is a usual name for what a table predicts")
        if names is LABEL_NAMES[1]:  # before a bare "y": a compound name ending like a label
            ending = [c for c in columns if _ends_like_a_label(c) and frame[c].nunique(dropna=True) > 1]
            if ending:
                return TargetGuess(str(ending[-1]), f"its name '{ending[-1]}' ends like a usual name for what a "
                                                    "table predicts")
    return TargetGuess(str(columns[-1]), "it is the last column and no column is named like a label")
