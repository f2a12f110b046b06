"""Live data against the training reference: drift, whether it matters, and performance.

Everything is computed from the stored reference (profiles and a row sample),
so a report needs neither the training file nor a refit; live columns are
converted once into bucket codes and every test, period and plot reads those.
The model's feature importances come from the caller (explain's SHAP shares,
say), else from permutation importance on the held-out rows.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from automl.data import DATETIME, require_columns, strip_labels
from automl.errors import AutoMLError
from automl.metrics import METRICS, positive_class
from automl.monitor._drift import ColumnData, DriftSettings, compare_column, prepare_column, with_test
from automl.monitor._importance import experiment_importances
from automl.monitor._performance import (
    binary_positive,
    drift_of_predictions,
    drift_of_target,
    live_performance,
    performance_caption,
    performance_table,
)
from automl.monitor._reference import class_labels, load_reference

MIN_PERIOD_ROWS = 50  # fewer rows than this in a day/week say more about noise than drift
MAX_PERIODS = 200


@dataclass
class MonitorReport:
    """A drift and performance snapshot; ``to_dict``/``from_dict`` round-trip through JSON."""

    created: str
    n_live: int
    n_reference: int
    task: str | None
    settings: dict[str, Any]
    features: list[dict[str, Any]]  # one row per feature (see ``table``), with its distributions
    dataset: dict[str, Any]
    headline: str
    drift_detected: bool
    notes: list[str] = field(default_factory=list)
    importance: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    target: dict[str, Any] | None = None
    performance: dict[str, Any] | None = None
    over_time: list[dict[str, Any]] | None = None
    skipped: list[dict[str, str]] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The per-feature table, without the distributions kept for the plots; the reason beside the verdict."""
        table = pd.DataFrame([{k: v for k, v in r.items() if k != "distribution"} for r in self.features])
        first = [c for c in ("column", "drifted", "reason") if c in table.columns]
        return table[first + [c for c in table.columns if c not in first]]

    def performance_table(self) -> pd.DataFrame | None:
        """Performance for reading: the task's columns, numbers as text, a reason wherever one is missing."""
        return None if self.performance is None else performance_table(self.task, self.performance)

    def performance_caption(self) -> str:
        """What the performance section shows for this task (CBPE is named only for classification)."""
        return performance_caption(self.task, self.performance, self.prediction is not None)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorReport:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def monitor(reference: dict[str, Any], live: pd.DataFrame, *, importances: dict[str, float] | None = None,
            model=None, target: str | None = None, task: str | None = None,
            holdout_scores: dict[str, Any] | None = None, settings: DriftSettings | None = None,
            timestamp_column: str | None = None, positive: object = None, metric: str | None = None,
            holdout_notes: dict[str, str] | None = None) -> MonitorReport:
    """Compare ``live`` rows with the training ``reference``; see :class:`MonitorReport`.

    ``importances`` ({feature: importance}) weigh the drift by what the model
    relies on; ``model`` adds prediction drift and, for classification,
    confidence-based performance estimates; ``target`` (a column of ``live``)
    adds target drift and the actual metrics, beside ``holdout_scores``
    (``holdout_notes``: why any of those is undefined);
    ``positive`` is the binary metrics' positive class and ``metric`` the one
    given a bootstrap interval; ``timestamp_column`` adds drift per day/week.
    """
    settings = settings or DriftSettings()
    task = task or reference.get("task")
    profiles = reference["features"]
    require_columns(live, profiles, where="The live table", then="run the monitor again")
    if not len(live):
        raise AutoMLError("The live table has no rows.", "Give a table with at least one row.")
    sample = reference.get("sample", {}).get("columns", {})
    skipped = [{"column": c, "reason": "dates move by nature; not tested"} for c, p in profiles.items()
               if p["kind"] == DATETIME or c == timestamp_column]
    skip = {s["column"] for s in skipped}
    cols = [prepare_column(c, p, live[c], sample.get(c), reference["n_rows"], settings)
            for c, p in profiles.items() if c not in skip]
    rows = [compare_column(c) for c in cols]
    for r in rows:
        r["missing_changed"] = abs(r["missing_live"] - r["missing_ref"]) >= settings.missing_change
    importance = _weigh(rows, importances, settings)
    n_drifted = sum(r["drifted"] for r in rows)
    share = n_drifted / len(rows) if rows else 0.0
    dataset = {"n_features": len(rows), "n_drifted": n_drifted, "share": share,
               "threshold": settings.dataset_share, "drifted": bool(rows) and share >= settings.dataset_share}
    if target is not None and target in live.columns and task != "regression" \
            and not pd.api.types.is_numeric_dtype(live[target]):
        live = live.assign(**{target: strip_labels(live[target])})  # 'yes ' is 'yes', blank is missing, as in fit
    labelled = target is not None and target in live.columns and live[target].notna().any()
    prediction = performance = target_drift = None
    proba, classes = None, reference.get("classes") or []
    if model is not None:
        prediction, proba, classes = drift_of_predictions(reference, model, live, task, settings)
    if labelled:
        target_drift = drift_of_target(reference, live[target] if task == "regression"
                                       else class_labels(live[target]), task, settings)
    if model is not None and (labelled or proba is not None):
        pos = binary_positive(reference, classes, positive, task)
        performance = live_performance(task, prediction["live_frame"], proba, classes, pos,
                                       live[target] if labelled else None, holdout_scores or {}, metric,
                                       holdout_notes)
    if prediction is not None:
        prediction.pop("live_frame")
    over_time = _over_time(cols, live[timestamp_column], settings) if timestamp_column else None
    headline, notes, detected = _summarise(rows, dataset, importance, prediction, performance)
    return MonitorReport(
        created=pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"), n_live=len(live),
        n_reference=int(reference["n_rows"]), task=task, settings=settings.to_dict(), features=rows,
        dataset=dataset, headline=headline, drift_detected=detected, notes=notes, importance=importance,
        prediction=prediction, target=target_drift, performance=performance, over_time=over_time, skipped=skipped)


def _weigh(rows: list[dict], importances: dict[str, float] | None, settings: DriftSettings) -> dict | None:
    """Share of the model's importance carried by the drifted features: does the drift matter to this model?"""
    if not importances:
        return None
    names = {r["column"] for r in rows}
    imp = {k: max(float(v), 0.0) for k, v in importances.items() if k in names and np.isfinite(v)}
    total = sum(imp.values())
    if total <= 0:
        return None
    for r in rows:
        r["importance"] = imp.get(r["column"], 0.0) / total
    drifted = float(sum(r["importance"] for r in rows if r["drifted"]))
    return {"drifted_share": drifted, "threshold": settings.importance_share,
            "matters": drifted >= settings.importance_share and drifted > 0}


def _over_time(cols: list[ColumnData], stamps: pd.Series, settings: DriftSettings) -> list[dict[str, Any]]:
    """Share of drifted features and the worst PSI per day or week of the live rows."""
    t = stamps if pd.api.types.is_datetime64_any_dtype(stamps) else pd.to_datetime(stamps, errors="coerce",
                                                                                     format="mixed")
    if t.notna().sum() == 0:
        raise AutoMLError(f"The timestamp column '{stamps.name}' has no readable dates.",
                          "Give a column of dates or times (e.g. 2024-05-01), or leave the option out.")
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert(None)
    freq = settings.period or ("D" if (t.max() - t.min()) <= pd.Timedelta(days=60) else "W")
    codes, periods = pd.factorize(t.dt.to_period(freq), sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(periods) + 1))
    out = []
    for i in range(max(len(periods) - MAX_PERIODS, 0), len(periods)):
        idx = order[bounds[i]:bounds[i + 1]]
        entry: dict[str, Any] = {"period": str(periods[i].start_time.date()), "freq": freq, "rows": int(len(idx)),
                                 "share_drifted": None, "worst_psi": None, "worst_feature": None, "drifted": []}
        if len(idx) >= MIN_PERIOD_ROWS and cols:
            # A day of 200 rows gets the small-sample tests (see DriftSettings.choose_by): their p-values
            # allow for its size; a fixed distance threshold would not (its noise alone reaches 0.1).
            rows = [compare_column(with_test(c, int((c.codes[idx] >= 0).sum()), settings), idx, detail=False)
                    for c in cols]
            worst = max(rows, key=lambda r: -1 if r["psi"] is None else r["psi"])
            entry.update(share_drifted=sum(r["drifted"] for r in rows) / len(rows), worst_psi=worst["psi"],
                         worst_feature=worst["column"], drifted=[r["column"] for r in rows if r["drifted"]])
        out.append(entry)
    return out


def _summarise(rows, dataset, importance, prediction, performance) -> tuple[str, list[str], bool]:
    n, k = dataset["n_features"], dataset["n_drifted"]
    if k == 0:
        headline = f"No drift in the {n} features."
    else:
        headline = f"Drift in {k} of {n} features"
        if importance is not None:
            verdict = "it matters" if importance["matters"] else "it hardly matters to this model"
            headline += f", carrying {importance['drifted_share']:.0%} of the model's importance: {verdict}."
        else:
            headline += ": dataset drift." if dataset["drifted"] else "; below the dataset-drift share."
    notes = []
    moved = [r["column"] for r in rows if r.get("missing_changed")]
    if moved:
        notes.append(f"Missing values changed in {len(moved)} feature(s): {', '.join(moved[:5])}.")
    new = [r["column"] for r in rows if r.get("new_categories")]
    if new:
        notes.append(f"Categories never seen in training appear in: {', '.join(new[:5])}.")
    if prediction and prediction.get("drifted"):
        notes.append("The model's predictions drifted.")
    for r in (performance or {}).get("rows", []):
        if r["actual"] is not None and r["holdout"] is not None and _quoted(r["metric"]):
            notes.append(f"{r['label']} on the labelled live rows: {r['actual']:.3g} (held out: {r['holdout']:.3g}).")
    detected = bool(dataset["drifted"] or (importance and importance["matters"])
                    or (prediction and prediction.get("drifted")))
    return headline, notes, detected


def _quoted(metric: str) -> bool:
    return metric in METRICS and METRICS[metric].quoted


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


# -- experiments -----------------------------------------------------------------------------
def monitor_experiment(experiment, live: pd.DataFrame | str | os.PathLike, **kw: Any) -> MonitorReport:
    """:func:`monitor` with the experiment's reference, model, target and held-out scores.

    ``importances`` (a keyword, {feature: importance}) are what the caller knows the
    model relies on, e.g. explain's SHAP shares; without them, permutation importance
    on the held-out rows is computed once and cached.
    """
    from automl.data import read_table
    from automl.monitor._reference import build_reference_for_experiment

    if not isinstance(live, pd.DataFrame):
        live = read_table(live)
    reference = load_reference(experiment) or build_reference_for_experiment(experiment)
    model = kw.pop("model", None) or experiment.load_model()
    importances = kw.pop("importances", None) or experiment_importances(experiment, model)
    record = experiment.record
    kw.setdefault("target", record.target)
    kw.setdefault("task", record.task)
    if "holdout_scores" not in kw:
        kw["holdout_scores"], kw["holdout_notes"] = _holdout_scores(experiment)
    kw.setdefault("positive", record.positive_class)
    kw.setdefault("metric", record.metric)
    return monitor(reference, live, importances=importances, model=model, **kw)


def _holdout_scores(experiment) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every held-out metric of the task, scored as Results scores them (its saved rows, threshold applied);
    the record's stored scores (only those the search can optimise) if the rows are gone."""
    from automl.evaluation import holdout_inputs, task_scores

    try:
        args = holdout_inputs(experiment)
    except (AutoMLError, OSError, KeyError):
        return dict(experiment.record.holdout), {}
    args.pop("metric")
    y, pred, proba, classes = args["y_true"], args["y_pred"], args["proba"], args["classes"]
    positive = args["positive"]
    if args["task"] == "regression":
        y, pred = y.astype(float), pred.astype(float)
    elif args["task"] == "binary" and positive is None:
        positive = positive_class(pd.Series(y))  # as evaluate() picks it
    return task_scores(y, pred, proba, classes, args["task"], positive)
