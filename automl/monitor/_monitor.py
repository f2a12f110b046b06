"""Live data against the training reference: drift, whether it matters, and performance.

Everything is computed from the stored reference (profiles and a row sample),
so a report needs neither the training file nor a refit; live columns are
converted once into bucket codes and every test, period and plot reads those.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from automl.data import DATETIME, proba_column, require_columns
from automl.errors import AutoMLError
from automl.metrics import METRICS, Predictions, metrics_for
from automl.monitor._drift import ColumnData, DriftSettings, compare_column, prepare_column, with_test
from automl.monitor._reference import (
    PREDICTED_CLASS,
    TARGET,
    category_strings,
    class_labels,
    class_name,
    load_reference,
    prediction_frame,
)

IMPORTANCE_CACHE = "monitor_importance.json"
EXPLAIN_IMPORTANCE = "explain/importance.json"
MIN_PERIOD_ROWS = 50  # fewer rows than this in a day/week say more about noise than drift
MAX_PERIODS = 200
BOOTSTRAP_ROWS = 20_000  # above this many labelled rows, no bootstrap interval on the live metric


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
        """The per-feature table, without the distributions kept for the plots."""
        return pd.DataFrame([{k: v for k, v in r.items() if k != "distribution"} for r in self.features])

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorReport:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def monitor(reference: dict[str, Any], live: pd.DataFrame, *, importances: dict[str, float] | None = None,
            model=None, target: str | None = None, task: str | None = None,
            holdout_scores: dict[str, Any] | None = None, settings: DriftSettings | None = None,
            timestamp_column: str | None = None, positive: object = None, metric: str | None = None) -> MonitorReport:
    """Compare ``live`` rows with the training ``reference``; see :class:`MonitorReport`.

    ``importances`` ({feature: importance}) weigh the drift by what the model
    relies on; ``model`` adds prediction drift and, for classification,
    confidence-based performance estimates; ``target`` (a column of ``live``)
    adds target drift and the actual metrics, beside ``holdout_scores``;
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
    labelled = target is not None and target in live.columns and live[target].notna().any()
    prediction = performance = target_drift = None
    proba, classes = None, reference.get("classes") or []
    if model is not None:
        prediction, proba, classes = _prediction_drift(reference, model, live, task, settings)
    if labelled:
        target_drift = _target_drift(reference, live[target] if task == "regression" else class_labels(live[target]),
                                     task, settings)
    if model is not None and (labelled or proba is not None):
        pos = _positive(reference, classes, positive, task)
        performance = _performance(task, prediction["live_frame"], proba, classes, pos,
                                   live[target] if labelled else None, holdout_scores or {}, metric)
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


def _predict(model, X: pd.DataFrame, task: str) -> tuple[pd.DataFrame, np.ndarray | None, list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "regression":
            return prediction_frame(model.predict(X), task), None, []
        proba = np.asarray(model.predict_proba(X), dtype=float)
    classes = [class_name(c) for c in model.classes_]
    return prediction_frame(proba, task, classes), proba, classes


def _prediction_drift(reference: dict, model, X: pd.DataFrame, task: str, settings: DriftSettings):
    frame, proba, classes = _predict(model, X, task)
    ref = reference.get("predictions")
    out: dict[str, Any] = {"rows": [], "drifted": None, "main": None, "live_frame": frame}
    if ref:
        sample = reference.get("prediction_sample", {}).get("columns", {})
        cols = [prepare_column(c, p, frame[c], sample.get(c), ref["rows"], settings)
                for c, p in ref["columns"].items() if c in frame.columns]
        out["rows"] = [compare_column(c) for c in cols]
        main = ("prediction" if task == "regression" else PREDICTED_CLASS if task != "binary"
                else proba_column(_positive(reference, classes, None, task)))
        if main not in ref["columns"] and PREDICTED_CLASS in ref["columns"]:
            main = PREDICTED_CLASS  # the reference was given labels, not probabilities
        hit = [r for r in out["rows"] if r["column"] == main]
        out["main"], out["drifted"] = main, bool(hit and hit[0]["drifted"])
    return out, proba, classes


def _target_drift(reference: dict, y: pd.Series, task: str, settings: DriftSettings) -> dict | None:
    """The live labels against the training labels (or, lacking those, the training predictions)."""
    if reference.get("target"):
        profile, sample, against = reference["target"], reference["sample"]["columns"].get(TARGET), "training labels"
    elif reference.get("predictions"):
        key = "prediction" if task == "regression" else PREDICTED_CLASS
        profile = reference["predictions"]["columns"][key]
        sample, against = reference["prediction_sample"]["columns"].get(key), "training predictions"
    else:
        return None
    rows = reference["n_rows"] if reference.get("target") else reference["predictions"]["rows"]
    row = compare_column(prepare_column("target", profile, y[y.notna()], sample, rows, settings))
    return {**row, "against": against}


def _positive(reference: dict, classes: list[str], positive: object, task: str) -> str | None:
    """The binary metrics' positive class: given, stored, else the minority class of the training labels."""
    if task != "binary" or not classes:
        return None
    for cand in (positive, reference.get("positive_class")):
        if cand is not None and class_name(cand) in classes:
            return class_name(cand)
    predicted = ((reference.get("predictions") or {}).get("columns") or {}).get(PREDICTED_CLASS)
    for prof in (reference.get("target"), predicted):
        if prof and prof.get("categories"):
            counts = dict(zip(prof["categories"], prof["counts"]))
            return min(classes, key=lambda c: (counts.get(c, 0), -classes.index(c)))
    return classes[-1]


def expected_roc_auc(p: np.ndarray) -> float | None:
    """CBPE: ROC AUC expected if ``p`` is each row's calibrated probability of being positive."""
    p = np.sort(np.asarray(p, dtype=float))[::-1]
    if not len(p):
        return None
    tp, fp = np.cumsum(p), np.cumsum(1 - p)
    if tp[-1] <= 0 or fp[-1] <= 0:
        return None
    last = np.r_[np.diff(p) != 0, True]  # one point per distinct threshold
    tpr, fpr = np.r_[0.0, tp[last] / tp[-1]], np.r_[0.0, fp[last] / fp[-1]]
    return float(np.trapezoid(tpr, fpr))


def estimate_performance(proba: np.ndarray, classes: list[str], positive: str | None) -> dict[str, float | None]:
    """Confidence-based performance estimation (NannyML's CBPE): metrics expected from calibrated probabilities."""
    proba = np.asarray(proba, dtype=float)
    pred = np.argmax(proba, axis=1)
    chosen = proba[np.arange(len(proba)), pred]
    recall = [proba[pred == j, j].sum() / proba[:, j].sum() for j in range(len(classes)) if proba[:, j].sum() > 0]
    out: dict[str, float | None] = {"accuracy": float(chosen.mean()), "balanced_accuracy": float(np.mean(recall)),
                                    "log_loss": float(np.mean(-np.sum(proba * np.log(np.clip(proba, 1e-15, 1)), 1)))}
    if len(classes) == 2 and positive in classes:
        j = classes.index(positive)
        p, says = proba[:, j], pred == j
        tp, fp, fn = p[says].sum(), (1 - p[says]).sum(), p[~says].sum()
        out["roc_auc"] = expected_roc_auc(p)
        out["f1"] = float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn > 0 else None
    else:
        aucs = [expected_roc_auc(proba[:, j]) for j in range(len(classes))]
        known = [a for a in aucs if a is not None]
        out["roc_auc"] = float(np.mean(known)) if known else None
    return out


def _performance(task: str, frame: pd.DataFrame, proba: np.ndarray | None, classes: list[str], positive,
                 y: pd.Series | None, holdout: dict, metric: str | None) -> dict[str, Any]:
    """The task's metrics: held out at training, estimated without labels (CBPE), actual on labelled rows."""
    from automl.evaluation import LABELS, classification_metrics, evaluate, regression_metrics

    estimated = estimate_performance(proba, classes, positive) if proba is not None else {}
    out: dict[str, Any] = {"labelled_rows": 0, "rows_estimated": len(frame) if estimated else 0, "interval": None,
                           "unknown_label_rows": 0}
    actual: dict[str, float | None] = {}
    if y is not None:
        known = y.notna().to_numpy()
        if task == "regression":
            truth, pred = y[known].to_numpy(dtype=float), frame["prediction"].to_numpy()[known]
            p, labels, pos = None, [], None
        else:  # labels as class indices: the same scores, without sklearn sorting 100k strings
            codes, names = category_strings(y[known])
            index = {c: i for i, c in enumerate(classes)}
            truth = np.array([index.get(class_name(n), -1) for n in names] + [-1])[codes]
            seen = truth >= 0
            out["unknown_label_rows"] = int((~seen).sum())
            truth, p = truth[seen], proba[known][seen]
            pred, labels, pos = np.argmax(p, axis=1), list(range(len(classes))), index.get(positive)
            if task == "binary" and pos is None:
                pos = 1  # no positive class known: the second, as sklearn's binary metrics assume
        out["labelled_rows"] = int(len(truth))
        if len(truth) > BOOTSTRAP_ROWS:  # the interval would be narrow and the bootstrap slow: metrics only
            actual = (regression_metrics(truth, pred) if task == "regression"
                      else classification_metrics(truth, pred, p, labels, pos))[0]
        elif len(truth):
            result = evaluate(truth, pred, p, labels, task, positive=pos, metric=metric, n_resamples=200)
            actual = result.metrics
            if result.interval:
                out["interval"] = {"metric": result.headline, "low": result.interval[0], "high": result.interval[1]}
    names = list(dict.fromkeys([*metrics_for(task), *holdout, *actual]))
    out["rows"] = [{"metric": n, "label": METRICS[n].label if n in METRICS else LABELS.get(n, n),
                    "holdout": holdout.get(n), "estimated": estimated.get(n), "actual": actual.get(n)} for n in names]
    return out


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
        if r["actual"] is not None and r["holdout"] is not None and r["metric"] in ("roc_auc", "rmse", "accuracy"):
            notes.append(f"{r['label']} on the labelled live rows: {r['actual']:.3g} (held out: {r['holdout']:.3g}).")
    detected = bool(dataset["drifted"] or (importance and importance["matters"])
                    or (prediction and prediction.get("drifted")))
    return headline, notes, detected


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
    """:func:`monitor` with the experiment's reference, model, importances, target and held-out scores."""
    from automl.data import read_table
    from automl.monitor._reference import build_reference_for_experiment

    if not isinstance(live, pd.DataFrame):
        live = read_table(live)
    reference = load_reference(experiment) or build_reference_for_experiment(experiment)
    model = kw.pop("model", None) or experiment.load_model()
    importances = kw.pop("importances", None) or experiment_importances(experiment, model)
    meta = experiment.meta
    kw.setdefault("target", meta.get("target"))
    kw.setdefault("task", meta.get("task"))
    kw.setdefault("holdout_scores", meta.get("holdout"))
    kw.setdefault("positive", meta.get("positive_class"))
    kw.setdefault("metric", meta.get("metric"))
    return monitor(reference, live, importances=importances, model=model, **kw)


def experiment_importances(experiment, model=None, max_rows: int = 2000, repeats: int = 3,
                           seed: int = 0) -> dict[str, float] | None:
    """Feature importances: the explanation cache if there is one, else permutation importance, computed once.

    Every permuted copy of the held-out rows goes to the model in one call:
    the pipeline's fixed cost per call, not the rows, dominates on small tables.
    """
    for name in (EXPLAIN_IMPORTANCE, IMPORTANCE_CACHE):
        found = _parse_importance(experiment.read_json(name))
        if found:
            return found
    try:
        hold = experiment.holdout()
    except AutoMLError:
        return None
    model = model or experiment.load_model()
    meta, task = experiment.meta, experiment.task
    features = [c for c in experiment.schema.features if c in hold.columns]
    rng = np.random.default_rng(seed)
    cap = max(100, min(max_rows, 300_000 // max(len(features) * repeats, 1)))  # bounds the one big predict
    if len(hold) > cap:
        hold = hold.iloc[np.sort(rng.choice(len(hold), cap, replace=False))]
    X, y = hold[features].reset_index(drop=True), hold[meta["target"]].reset_index(drop=True)
    blocks = [X]
    for col in features:
        for _ in range(repeats):
            blocks.append(X.assign(**{col: rng.permutation(X[col].to_numpy())}))
    frame, proba, classes = _predict(model, pd.concat(blocks, ignore_index=True), task)
    metric, n = METRICS[meta["metric"]], len(X)
    if task == "regression":
        truth = y.to_numpy(dtype=float)
        scores = [metric.score(Predictions(truth, frame["prediction"].to_numpy()[b * n:(b + 1) * n]))
                  for b in range(len(blocks))]
    else:
        codes, names = category_strings(y)
        index = {c: i for i, c in enumerate(classes)}
        truth = np.array([index.get(class_name(v), -1) for v in names] + [-1])[codes]
        pos = index.get(class_name(meta.get("positive_class")))
        scores = [metric.score(Predictions(truth, proba[b * n:(b + 1) * n].argmax(1), proba[b * n:(b + 1) * n],
                                           list(range(len(classes))), pos)) for b in range(len(blocks))]
    sign = 1.0 if metric.greater_is_better else -1.0
    drops = sign * (scores[0] - np.asarray(scores[1:]).reshape(len(features), repeats))
    result = {col: max(float(d), 0.0) for col, d in zip(features, drops.mean(axis=1))}
    experiment.write_json(IMPORTANCE_CACHE, {"method": "permutation", "metric": metric.name, "importance": result})
    return result


def _parse_importance(data: Any) -> dict[str, float] | None:
    """Read importances written by someone else: {feature: value}, {"importance": ...} or a list of records."""
    if isinstance(data, dict):
        for key in ("importance", "importances", "mean_abs_shap", "global"):
            if isinstance(data.get(key), (dict, list)):
                return _parse_importance(data[key])
        if data and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data.values()):
            return {str(k): float(v) for k, v in data.items()}
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        name = next((k for k in ("feature", "column", "name") if k in data[0]), None)
        value = next((k for k in ("importance", "mean_abs_shap", "value") if k in data[0]), None)
        if name and value:
            return {str(r[name]): float(r[value]) for r in data}
    return None
