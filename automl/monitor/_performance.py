"""Predictions on live rows: their drift, the target's drift, and performance with or without labels.

Performance is the task's registry metrics, the set Results shows: held out at
training, estimated from the model's class probabilities where there are no
labels (CBPE; classification only, a regression model has no confidence to
read, so its prediction drift is the signal), and actual on the labelled
live rows, with a bootstrap interval on the headline.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from automl.data import proba_column
from automl.evaluation import evaluate, task_scores
from automl.metrics import METRICS, metrics_for
from automl.monitor._drift import DriftSettings, compare_column, prepare_column
from automl.monitor._reference import PREDICTED_CLASS, TARGET, category_strings, class_name, prediction_frame

BOOTSTRAP_ROWS = 20_000  # above this many labelled rows, no bootstrap interval on the live metric


def _predict(model, X: pd.DataFrame, task: str) -> tuple[pd.DataFrame, np.ndarray | None, list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "regression":
            return prediction_frame(model.predict(X), task), None, []
        proba = np.asarray(model.predict_proba(X), dtype=float)
    classes = [class_name(c) for c in model.classes_]
    return prediction_frame(proba, task, classes), proba, classes


def drift_of_predictions(reference: dict, model, X: pd.DataFrame, task: str, settings: DriftSettings):
    frame, proba, classes = _predict(model, X, task)
    ref = reference.get("predictions")
    out: dict[str, Any] = {"rows": [], "drifted": None, "main": None, "live_frame": frame}
    if ref:
        sample = reference.get("prediction_sample", {}).get("columns", {})
        cols = [prepare_column(c, p, frame[c], sample.get(c), ref["rows"], settings)
                for c, p in ref["columns"].items() if c in frame.columns]
        out["rows"] = [compare_column(c) for c in cols]
        main = ("prediction" if task == "regression" else PREDICTED_CLASS if task != "binary"
                else proba_column(binary_positive(reference, classes, None, task)))
        if main not in ref["columns"] and PREDICTED_CLASS in ref["columns"]:
            main = PREDICTED_CLASS  # the reference was given labels, not probabilities
        hit = [r for r in out["rows"] if r["column"] == main]
        out["main"], out["drifted"] = main, bool(hit and hit[0]["drifted"])
    return out, proba, classes


def drift_of_target(reference: dict, y: pd.Series, task: str, settings: DriftSettings) -> dict | None:
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


def binary_positive(reference: dict, classes: list[str], positive: object, task: str) -> str | None:
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


def live_performance(task: str, frame: pd.DataFrame, proba: np.ndarray | None, classes: list[str], positive,
                     y: pd.Series | None, holdout: dict, metric: str | None,
                     holdout_notes: dict[str, str] | None = None) -> dict[str, Any]:
    """The task's metrics: held out at training, estimated without labels (CBPE, classification only: it
    reads class probabilities), actual on labelled rows; ``notes`` say why a value is not defined."""
    estimated = estimate_performance(proba, classes, positive) if proba is not None else {}
    out: dict[str, Any] = {"labelled_rows": 0, "rows_estimated": len(frame) if estimated else 0, "interval": None,
                           "unknown_label_rows": 0, "estimated_by": "CBPE" if estimated else None}
    actual: dict[str, float | None] = {}
    actual_notes: dict[str, str] = {}
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
            actual, actual_notes = task_scores(truth, pred, p, labels, task, pos)
        elif len(truth):
            result = evaluate(truth, pred, p, labels, task, positive=pos, metric=metric, n_resamples=200)
            actual, actual_notes = result.metrics, result.notes
            if result.interval:
                out["interval"] = {"metric": result.headline, "low": result.interval[0], "high": result.interval[1]}
    # The metric set Results shows (every one the registry reports for the task), then any other held-out one.
    names = list(dict.fromkeys([*metrics_for(task, optimise=False), *holdout, *actual]))
    out["rows"] = [{"metric": n, "label": METRICS[n].label_for(task) if n in METRICS else n,
                    "holdout": holdout.get(n), "estimated": estimated.get(n), "actual": actual.get(n),
                    "note": _note(n, holdout_notes or {}, actual_notes)} for n in names]
    return out


def _note(name: str, holdout: dict[str, str], actual: dict[str, str]) -> str:
    parts = [f"held out: {holdout[name]}" if name in holdout else "", f"live: {actual[name]}" if name in actual else ""]
    return "; ".join(p for p in parts if p)


def performance_caption(task: str | None, performance: dict[str, Any] | None, has_model: bool) -> str:
    """What the performance table holds, in the task's terms (CBPE only where it applies: classification)."""
    labelled = (performance or {}).get("labelled_rows", 0)
    if task == "regression":
        text = ("Without labels, a regression model's error can't be estimated from its predictions: the drift "
                "of its predictions is the early signal shown instead.")
        if labelled:
            text = f"Held out at training and actual on the {labelled:,} live rows with a known outcome. " + text
        return text
    if not has_model:
        return "No model was given: no performance."
    text = "Held out at training, and estimated from the model's class probabilities without labels (CBPE)"
    return text + (f", and actual on the {labelled:,} live rows with a known outcome." if labelled else
                   "; give live rows with their outcome for the actual values.")


def performance_table(task: str | None, performance: dict[str, Any]) -> pd.DataFrame:
    """The performance rows for reading: numbers as text, and where one is missing, why (never a bare None)."""
    labelled = performance.get("labelled_rows", 0)
    columns = {"holdout": "held out", "estimated": "estimated (CBPE)", "actual": "actual (live)"}
    if task == "regression" or not performance.get("estimated_by"):
        columns.pop("estimated")
    if not labelled:
        columns.pop("actual")

    missing = {"holdout": "not stored", "estimated": "not estimated", "actual": "not computed"}

    def shown(value: float | None, column: str, note: str) -> str:
        if value is not None:
            return f"{value:.4f}"
        where = "live" if column == "actual" else "held out"
        return "not defined (see note)" if column != "estimated" and f"{where}: " in note else missing[column]

    rows = [{"metric": r["label"], **{title: shown(r[key], key, r.get("note", "")) for key, title in columns.items()},
             "note": r.get("note", "")} for r in performance["rows"]]
    return pd.DataFrame(rows)
