"""Metrics on the held-out split, per task, with a bootstrap interval on the headline.

Which metrics a task reports, how each is scored and labelled all come from
the registry (:mod:`automl.metrics`); this module checks the inputs, collects
the scores with a note wherever one is not defined, and adds the per-class table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn import metrics as skm

from automl.errors import AutoMLError
from automl.evaluation._bootstrap import bootstrap_interval
from automl.evaluation._inputs import checked_inputs
from automl.metrics import (
    BINARY,
    DEFAULT_METRIC,
    METRICS,
    REGRESSION,
    Predictions,
    get_metric,
    metrics_for,
    positive_class,
)


@dataclass
class Evaluation:
    """The held-out metrics of one model: numbers, per-class table and the headline's interval."""

    task: str
    metrics: dict[str, float | None]
    per_class: pd.DataFrame | None
    headline: str
    interval: tuple[float, float] | None
    notes: dict[str, str] = field(default_factory=dict)  # metric -> why it is None
    n_rows: int = 0
    positive: Any = None
    threshold: float | None = None

    def label(self, name: str) -> str:
        return METRICS[name].label_for(self.task) if name in METRICS else name

    def table(self) -> pd.DataFrame:
        """One row per metric with its label, value and (for the headline) the 95% interval."""
        rows = [{"metric": k, "label": self.label(k), "value": v, "note": self.notes.get(k, ""),
                 "low": self.interval[0] if self.interval and k == self.headline else None,
                 "high": self.interval[1] if self.interval and k == self.headline else None}
                for k, v in self.metrics.items()]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "metrics": self.metrics, "headline": self.headline,
                "interval": list(self.interval) if self.interval else None, "notes": self.notes,
                "n_rows": self.n_rows, "positive": self.positive, "threshold": self.threshold,
                "per_class": None if self.per_class is None else self.per_class.to_dict(orient="records")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """The evaluation :meth:`to_dict` wrote (JSON floats round-trip exactly, so the numbers are the same)."""
        per_class = data.get("per_class")
        return cls(data["task"], dict(data["metrics"]), None if per_class is None else pd.DataFrame(per_class),
                   data["headline"], tuple(data["interval"]) if data.get("interval") else None,
                   dict(data.get("notes") or {}), int(data.get("n_rows") or 0), data.get("positive"),
                   data.get("threshold"))


def evaluate(y_true, y_pred, proba, classes, task: str, positive: Any = None, metric: str | None = None,
             n_resamples: int = 1000, seed: int = 0) -> Evaluation:
    """Every metric of ``task`` on these predictions, and a bootstrap 95% interval on ``metric``."""
    y, pred, proba, classes = checked_inputs(y_true, y_pred, proba, classes, task)
    if task == BINARY and positive is None:
        positive = positive_class(pd.Series(y))
    if task == BINARY and positive not in classes:
        raise AutoMLError(f"The positive class {positive!r} is not one of the classes {classes}.",
                          "Pass one of the model's classes as the positive class.")
    headline = get_metric(metric or DEFAULT_METRIC[task], task, optimise=False).name
    values, notes = task_scores(y, pred, proba, classes, task, positive)
    per_class = None if task == REGRESSION else per_class_table(y, pred, classes)
    interval = None
    if values[headline] is not None:
        interval = bootstrap_interval(y, pred, proba, classes, task, headline, positive, n_resamples, seed)
    return Evaluation(task, values, per_class, headline, interval, notes, len(y), positive)


def task_scores(y, pred, proba, classes, task: str, positive: Any = None) -> tuple[dict, dict]:
    """Every metric the registry reports for ``task`` (binary ones about ``positive``), and why any is None."""
    p = Predictions(y, pred, proba, classes, positive)
    values: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    for name in metrics_for(task, optimise=False):
        values[name], reason = METRICS[name].checked_score(p)
        if reason:
            notes[name] = f"not defined on these rows: {reason}"
    return values, notes


def per_class_table(y, pred, classes) -> pd.DataFrame:
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    return pd.DataFrame({"class": [str(c) for c in classes], "precision": p, "recall": r, "f1": f,
                         "support": s.astype(int)})
