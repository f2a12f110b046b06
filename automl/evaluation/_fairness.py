"""Does the model treat groups of people differently? Per-group rates on the held-out rows.

For each sensitive column (sex, age, ...) we compare, group by group, how often
the model predicts the positive class (demographic parity) and how often it is
right about the rows that are / are not positive (equalized odds); for
regression, how large its errors are. A gap above the threshold gets a warning
in plain words. These are descriptive numbers on held-out rows, not a verdict:
small groups make noisy rates, and the notes say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from automl.errors import AutoMLError
from automl.metrics import BINARY, METRICS, MULTICLASS, REGRESSION, Predictions, positive_class

MAX_DISTINCT_NUMERIC = 10  # more distinct numbers than this: quantile bands
MAX_GROUPS = 20  # more categories than this: the rarest are pooled as "(other)"
SMALL_GROUP = 30  # rows; rates of smaller groups are flagged as noisy
MISSING, OTHER = "(missing)", "(other)"
# Per-group columns and their labels. Accuracy and MAE are the registry's metrics, scored and labelled by it;
# the rates about the positive class (and the means) are group statistics of their own.
CLASS_METRICS = {"selection_rate": "Selection rate", "accuracy": METRICS["accuracy"].label,
                 "tpr": "True positive rate", "fpr": "False positive rate"}
REGRESSION_METRICS = {"mae": METRICS["mae"].label, "mean_prediction": "Mean prediction", "mean_actual": "Mean actual"}


@dataclass
class GroupFairness:
    """One sensitive column: a row per group, the largest gaps, warnings and notes."""

    column: str
    table: pd.DataFrame  # group, count, then the task's metrics
    gaps: dict[str, float | None]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class FairnessReport:
    task: str
    positive: Any
    threshold: float
    columns: list[GroupFairness]
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [w for c in self.columns for w in c.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "positive": self.positive, "threshold": self.threshold, "notes": self.notes,
                "columns": [{"column": c.column, "gaps": c.gaps, "warnings": c.warnings, "notes": c.notes,
                             "table": c.table.to_dict(orient="records")} for c in self.columns]}


def group_labels(values: pd.Series, bands: int = 4) -> tuple[pd.Series, str]:
    """A group label per row, and a note when numbers were banded or rare categories pooled."""
    name = values.name
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
            and values.nunique() > MAX_DISTINCT_NUMERIC:
        cut = pd.qcut(values, q=bands, duplicates="drop")
        names = [f"{iv.left:.4g}–{iv.right:.4g}" for iv in cut.cat.categories]
        labels = cut.cat.rename_categories(names).astype(object)
        return (labels.where(values.notna(), MISSING),
                f"'{name}' has {values.nunique()} distinct values, so it was split into {cut.cat.categories.size} "
                "quantile bands of about equal size.")
    labels = values.astype(object).where(values.notna(), MISSING).map(str)
    counts = labels.value_counts()
    if len(counts) <= MAX_GROUPS:
        return labels, ""
    kept = set(counts.index[: MAX_GROUPS - 1])
    return (labels.where(labels.isin(kept), OTHER),
            f"'{name}' has {len(counts)} values; the {len(counts) - MAX_GROUPS + 1} rarest are pooled as '{OTHER}'.")


def group_metrics(y_true, y_pred, groups, task: str, positive: Any = None) -> pd.DataFrame:
    """One row per group: count and the task's rates (classification: about ``positive``)."""
    frame = pd.DataFrame({"group": np.asarray(groups, dtype=object), "y": np.asarray(y_true),
                          "p": np.asarray(y_pred)})
    if task == REGRESSION:
        frame[["y", "p"]] = frame[["y", "p"]].astype(float)
        out = frame.groupby("group", sort=True).agg(count=("y", "size"), mean_prediction=("p", "mean"),
                                                     mean_actual=("y", "mean"))
        out.insert(1, "mae", _per_group(frame, "mae"))
        return out.reset_index()
    frame["actual"], frame["said"] = frame["y"] == positive, frame["p"] == positive
    frame["tp"], frame["fp"] = frame["actual"] & frame["said"], ~frame["actual"] & frame["said"]
    sums = frame.groupby("group", sort=True)[["actual", "said", "tp", "fp"]].sum()
    count = frame.groupby("group", sort=True).size()
    negatives = count - sums["actual"]
    out = pd.DataFrame({"count": count, "positive_rate": sums["actual"] / count,
                        "selection_rate": sums["said"] / count, "accuracy": _per_group(frame, "accuracy"),
                        "tpr": (sums["tp"] / sums["actual"]).where(sums["actual"] > 0),
                        "fpr": (sums["fp"] / negatives).where(negatives > 0)})
    return out.reset_index()


def _per_group(frame: pd.DataFrame, name: str) -> pd.Series:
    """The registry's metric ``name`` on each group's rows."""
    metric = METRICS[name]
    return frame.groupby("group", sort=True)[["y", "p"]].apply(
        lambda g: metric.score(Predictions(g["y"].to_numpy(), g["p"].to_numpy())))


def _gap(table: pd.DataFrame, column: str) -> tuple[float | None, str | None, str | None]:
    """Largest minus smallest value over groups (undefined groups left out), and which groups."""
    values = table.set_index("group")[column].dropna()
    if len(values) < 2:
        return None, None, None
    return float(values.max() - values.min()), str(values.idxmax()), str(values.idxmin())


def column_fairness(y_true, y_pred, values: pd.Series, task: str, positive: Any = None, threshold: float = 0.1,
                    mae_threshold: float = 0.25, bands: int = 4) -> GroupFairness:
    """Per-group metrics, gaps and warnings for one sensitive column."""
    groups, note = group_labels(values.reset_index(drop=True), bands)
    table = group_metrics(y_true, y_pred, groups, task, positive)
    notes = [note] if note else []
    small = table[table["count"] < SMALL_GROUP]
    if len(small):
        listed = ", ".join(f"'{g}' ({n} rows)" for g, n in zip(small["group"], small["count"]))
        notes.append(f"Small groups give noisy rates, so gaps involving them may be chance: {listed}.")
    col, gaps, warnings = str(values.name), {}, []
    pct = lambda v: f"{v:.0%}"  # noqa: E731
    if task == REGRESSION:
        gap, hi, lo = _gap(table, "mae")
        gaps["mae_gap"] = gap
        overall = METRICS["mae"].score(Predictions(np.asarray(y_true, float), np.asarray(y_pred, float)))
        if gap is not None and overall > 0 and gap / overall > mae_threshold:
            mae = table.set_index("group")["mae"]
            warnings.append(f"Predictions are off by {mae[hi]:,.4g} on average when {col} is '{hi}' but by "
                            f"{mae[lo]:,.4g} when it is '{lo}': the model is less accurate for the first group "
                            f"(MAE gap {gap:,.4g}, {gap / overall:.0%} of the overall MAE {overall:,.4g}).")
        return GroupFairness(col, table, gaps, warnings, notes)
    dp, dp_hi, dp_lo = _gap(table, "selection_rate")
    tpr, tpr_hi, tpr_lo = _gap(table, "tpr")
    fpr, fpr_hi, fpr_lo = _gap(table, "fpr")
    odds = max((g for g in (tpr, fpr) if g is not None), default=None)
    acc = _gap(table, "accuracy")[0]
    gaps.update(demographic_parity_difference=dp, equalized_odds_difference=odds, tpr_gap=tpr, fpr_gap=fpr,
                accuracy_gap=acc)
    rates = table.set_index("group")
    if dp is not None and dp > threshold:
        warnings.append(f"The model predicts '{positive}' for {pct(rates.selection_rate[dp_hi])} of rows where "
                        f"{col} is '{dp_hi}' but for {pct(rates.selection_rate[dp_lo])} where it is '{dp_lo}' "
                        f"(demographic parity difference {dp:.2f}, above {threshold:g}).")
    if odds is not None and odds > threshold:
        if tpr is not None and tpr >= (fpr or 0):
            what = (f"Among rows that really are '{positive}', the model finds {pct(rates.tpr[tpr_hi])} when {col} "
                    f"is '{tpr_hi}' but only {pct(rates.tpr[tpr_lo])} when it is '{tpr_lo}'")
        else:
            what = (f"Among rows that are not '{positive}', the model wrongly predicts '{positive}' for "
                    f"{pct(rates.fpr[fpr_hi])} when {col} is '{fpr_hi}' but {pct(rates.fpr[fpr_lo])} when it is "
                    f"'{fpr_lo}'")
        warnings.append(f"{what} (equalized odds difference {odds:.2f}, above {threshold:g}): its errors fall "
                        "unevenly on these groups.")
    return GroupFairness(col, table, gaps, warnings, notes)


def fairness_report(frame: pd.DataFrame, y_true, y_pred, sensitive: str | list[str], task: str,
                    positive: Any = None, threshold: float = 0.1, mae_threshold: float = 0.25,
                    bands: int = 4) -> FairnessReport:
    """Fairness of predictions ``y_pred`` for each column of ``sensitive`` in ``frame`` (rows aligned).

    Binary: rates are about ``positive``. Multiclass: one-vs-rest on ``positive`` (default the rarest class).
    """
    columns = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    absent = [c for c in columns if c not in frame.columns]
    if absent or not columns:
        raise AutoMLError(f"The sensitive column(s) {absent or columns} are not in the held-out rows.",
                          f"Choose among: {', '.join(map(str, frame.columns[:30]))}.")
    notes = []
    if task in (BINARY, MULTICLASS) and positive is None:
        positive = positive_class(pd.Series(np.asarray(y_true)))
    if task == MULTICLASS:
        notes.append(f"Multiclass task: every rate is one-vs-rest for the class '{positive}' (that class versus "
                     "all the others together); pass another positive class to look at it.")
    return FairnessReport(task, positive, threshold,
                          [column_fairness(y_true, y_pred, frame[c], task, positive, threshold, mae_threshold, bands)
                           for c in columns], notes)


def sensitive_candidates(frame: pd.DataFrame, limit: int = MAX_GROUPS) -> list[str]:
    """Columns that can be grouped on: few categories, or numbers (banded); for the page's picker."""
    out = []
    for col in frame.columns:
        values = frame[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric or 2 <= values.nunique() <= limit:
            out.append(str(col))
    return out
