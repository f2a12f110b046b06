"""The training reference: what monitoring compares live data with.

Built once when a model is saved, so a drift report needs neither the
training file nor a refit: per feature a profile (missing rate, quantiles,
equal-frequency histogram, or category counts), the distribution of the
model's training predictions, and a small seeded sample of raw rows for the
tests that need raw values (KS, Wasserstein). The profiles themselves are
:mod:`automl.monitor._profile`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from automl.data import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, Schema, canonical_category, proba_class, proba_column
from automl.errors import AutoMLError
from automl.monitor._profile import (
    categorical_profile,
    category_strings,
    numbers,
    numeric_profile,
    profile_column,
    sample_values,
)

VERSION = 1
REFERENCE = "reference.json"
SAMPLE = "reference_sample.parquet"
PREDICTION_SAMPLE = "reference_predictions.parquet"
TARGET = "__target__"  # the target's column in the row sample
PREDICTED_CLASS = "predicted_class"
PROFILED = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)


# -- the reference ------------------------------------------------------------------------------
def build_reference(X_train: pd.DataFrame, schema: Schema, predictions: pd.DataFrame | pd.Series | None, task: str,
                    sample_rows: int = 5000, seed: int = 0, *, target: pd.Series | None = None,
                    positive_class: object = None) -> dict[str, Any]:
    """Profile the training rows (and the model's predictions) into a JSON-serialisable dict.

    ``predictions``: class probabilities (one column per class, optionally
    named ``proba_<class>``), predicted labels, or the predicted values for
    regression; their rows need not be ``X_train``'s (held-out rows are best:
    see :func:`build_reference_for_experiment`). ``target``, aligned with
    ``X_train``, lets target drift be measured against the training labels.
    """
    features = [c.name for c in schema.columns if c.usable and c.kind in PROFILED and c.name in X_train.columns]
    if not features:
        raise AutoMLError("None of the schema's features is in the training table.",
                          "Build the reference from the table the model was trained on.")
    rng = np.random.default_rng(seed)
    n = len(X_train)
    rows = np.sort(rng.choice(n, size=min(n, sample_rows), replace=False))
    sample_frame = X_train.iloc[rows]
    profiles, sample = {}, {}
    for name in features:
        profiles[name] = profile_column(X_train[name], schema[name].kind)
        sample[name] = sample_values(profiles[name], sample_frame[name])
    ref: dict[str, Any] = {"version": VERSION, "task": task, "n_rows": int(n), "features": profiles,
                           "positive_class": class_name(positive_class) if positive_class is not None else None,
                           "target": None, "predictions": None,
                           "sample": {"rows": int(len(rows)), "seed": seed, "columns": sample},
                           "prediction_sample": {"rows": 0, "columns": {}}}
    if target is not None:
        target = pd.Series(np.asarray(target), index=X_train.index)
        if task != "regression":
            target = class_labels(target)
        ref["target"] = (numeric_profile(numbers(target, NUMERIC)) if task == "regression"
                         else categorical_profile(target))
        sample[TARGET] = sample_values(ref["target"], target.iloc[rows])
    if predictions is not None:
        ref["predictions"], ref["prediction_sample"] = prediction_profile(predictions, task, sample_rows, seed)
        ref["classes"] = ref["predictions"].get("classes", [])
    return ref


def prediction_frame(predictions: pd.DataFrame | pd.Series | np.ndarray, task: str,
                     classes: list | None = None) -> pd.DataFrame:
    """Predictions as the columns the reference profiles: ``prediction`` or ``proba_<class>`` + ``predicted_class``."""
    if task == "regression":
        return pd.DataFrame({"prediction": np.asarray(predictions, dtype=float).ravel()})
    if isinstance(predictions, pd.Series) or (isinstance(predictions, np.ndarray) and predictions.ndim == 1):
        return pd.DataFrame({PREDICTED_CLASS: class_labels(pd.Series(np.asarray(predictions, dtype=object)))})
    frame = pd.DataFrame(predictions)
    given = classes if classes is not None else frame.columns
    names = [class_name(str(c) if proba_class(c) is None else proba_class(c)) for c in given]
    proba = frame.to_numpy(dtype=float)
    out = pd.DataFrame(proba, columns=[proba_column(c) for c in names])
    out[PREDICTED_CLASS] = np.asarray(names, dtype=object)[np.argmax(proba, axis=1)]
    return out


def class_name(label: object) -> str | None:
    """A class label as monitoring names it: canonical, so 1, 1.0 and '1.0' are the class '1'."""
    name = canonical_category(label)
    try:
        number = float(name)
    except (TypeError, ValueError):
        return name
    return canonical_category(number) if np.isfinite(number) else name


def class_labels(series: pd.Series) -> pd.Series:
    """:func:`class_name` of every row (None where missing), converting each distinct label once."""
    codes, names = category_strings(series)
    table = np.array([class_name(n) for n in names] + [None], dtype=object)
    return pd.Series(table[codes], index=series.index, dtype=object)


def prediction_profile(predictions, task: str, sample_rows: int, seed: int) -> tuple[dict, dict]:
    frame = prediction_frame(predictions, task)
    columns = {c: (categorical_profile(frame[c]) if c == PREDICTED_CLASS else numeric_profile(frame[c].to_numpy()))
               for c in frame.columns}
    classes = [proba_class(c) for c in frame.columns if proba_class(c) is not None]
    rng = np.random.default_rng(seed + 1)
    rows = np.sort(rng.choice(len(frame), size=min(len(frame), sample_rows), replace=False))
    sample = {c: sample_values(columns[c], frame[c].iloc[rows]) for c in frame.columns}
    return ({"rows": int(len(frame)), "classes": classes, "columns": columns},
            {"rows": int(len(rows)), "columns": sample})


def save_reference(experiment, reference: dict[str, Any]) -> None:
    """reference.json plus the row samples as Parquet next to it (JSON would be large and slow)."""
    body = {**reference, "sample": {k: v for k, v in reference["sample"].items() if k != "columns"},
            "prediction_sample": {k: v for k, v in reference["prediction_sample"].items() if k != "columns"}}
    body["sample"]["file"], body["prediction_sample"]["file"] = SAMPLE, PREDICTION_SAMPLE
    experiment.write_frame(SAMPLE, pd.DataFrame(reference["sample"]["columns"]))
    experiment.write_frame(PREDICTION_SAMPLE, pd.DataFrame(reference["prediction_sample"]["columns"]))
    experiment.write_json(REFERENCE, body)


def load_reference(experiment) -> dict[str, Any] | None:
    """The saved reference with its samples, or None when the experiment has none yet."""
    ref = experiment.read_json(REFERENCE)
    if ref is None:
        return None
    for key, name in (("sample", SAMPLE), ("prediction_sample", PREDICTION_SAMPLE)):
        path = experiment.file(name)
        frame = pd.read_parquet(path) if path.exists() else pd.DataFrame()
        ref[key]["columns"] = {c: frame[c].astype(object).where(frame[c].notna(), None).tolist()
                               for c in frame.columns}
    return ref


def build_reference_for_experiment(experiment, sample_rows: int = 5000, seed: int = 0) -> dict[str, Any]:
    """Make (and save) the reference of an experiment created without one, from its training rows and model.

    The prediction distribution comes from the held-out rows' stored
    predictions when there are some: predictions on the training rows are
    in-sample (more confident than on any new data), so against them an
    overfit model would show prediction drift on data from the very same
    distribution.
    """
    train = experiment.train_frame()
    target = experiment.target
    X, y = train.drop(columns=[target]), train[target]
    preds = _holdout_predictions(experiment)
    if preds is None:
        model = experiment.load_model()
        rows = X if len(X) <= 20_000 else X.sample(20_000, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if experiment.task == "regression":
                preds = pd.Series(model.predict(rows), name="prediction")
            else:
                preds = pd.DataFrame(model.predict_proba(rows), columns=[str(c) for c in model.classes_])
    ref = build_reference(X, experiment.schema, preds, experiment.task, sample_rows, seed, target=y,
                          positive_class=experiment.record.positive_class)
    save_reference(experiment, ref)
    return ref


def _holdout_predictions(experiment) -> pd.DataFrame | pd.Series | None:
    try:
        hold = experiment.holdout()
    except AutoMLError:
        return None
    if experiment.task == "regression":
        return hold["prediction"] if "prediction" in hold.columns else None
    proba = [proba_column(c) for c in experiment.classes]
    return hold[proba] if proba and all(c in hold.columns for c in proba) else None
