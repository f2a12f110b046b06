"""The training reference: what monitoring compares live data with.

Built once when a model is saved, so a drift report needs neither the
training file nor a refit: per feature a profile (missing rate, quantiles,
equal-frequency histogram, or category counts), the distribution of the
model's training predictions, and a small seeded sample of raw rows for the
tests that need raw values (KS, Wasserstein). The profile also defines the
buckets (bins, values or categories) that live rows are counted in.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from automl.data import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, Schema
from automl.errors import AutoMLError

VERSION = 1
REFERENCE = "reference.json"
SAMPLE = "reference_sample.parquet"
PREDICTION_SAMPLE = "reference_predictions.parquet"
TARGET = "__target__"  # the target's column in the row sample
PREDICTED_CLASS = "predicted_class"
QUANTILES = (0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100)
MAX_CATEGORIES = 50  # categories with their own count; the rest share the OTHER bucket
MAX_SEEN = 1000  # category names remembered, to tell "rare" from "never seen"
MAX_VALUES = 20  # numbers with at most this many distinct values also keep exact value counts
PROFILED = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)
OTHER = "__other__"  # bucket for categories beyond the stored ones and for unseen ones
N_BINS = 20


# -- column conversion (shared by the reference and the live side) ------------------------
def canonical(value: object) -> str | None:
    """Categories compare as strings, as the model's coercer does: 2, 2.0 and '2' are one category."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def category_strings(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, canonical uniques): each row's index into the uniques, -1 if missing; factorised once, not per row."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    names = [canonical(u) for u in uniques]
    index = {n: i for i, n in enumerate(dict.fromkeys(n for n in names if n is not None))}
    table = np.array([-1 if n is None else index[n] for n in names] + [-1], dtype=np.int64)
    return table[codes], np.array(list(index), dtype=object)


def numbers(series: pd.Series, kind: str) -> np.ndarray:
    """A column as floats (dates as epoch seconds), NaN where missing or unparsable."""
    if kind == DATETIME:
        parsed = series
        if not pd.api.types.is_datetime64_any_dtype(series):
            parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(None)
        out = parsed.astype("datetime64[ns]").to_numpy().astype("int64").astype(float) / 1e9
        return np.where(parsed.isna().to_numpy(), np.nan, out)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def quantile_edges(values: np.ndarray, bins: int = N_BINS) -> np.ndarray:
    """Equal-frequency bin edges (duplicates merged), so every bin holds reference mass."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    return edges if len(edges) > 1 else np.array([edges[0] - 0.5, edges[0] + 0.5])


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value on the reference's edges (outside values go to the end bins), -1 if missing."""
    values = np.asarray(values, dtype=float)
    codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return np.where(np.isfinite(values), codes, -1)


# -- profiles --------------------------------------------------------------------------------
def numeric_profile(values: np.ndarray, kind: str = NUMERIC) -> dict[str, Any]:
    """Missing rate, quantiles, mean/std, distinct count, equal-frequency histogram (and value counts if few)."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    out: dict[str, Any] = {"kind": kind, "profile": NUMERIC, "rows": int(len(values)),
                           "missing_rate": float(1 - len(finite) / len(values)) if len(values) else 0.0}
    if not len(finite):
        return {**out, "n_distinct": 0, "edges": [0.0, 1.0], "counts": [0]}
    distinct, counts = np.unique(finite, return_counts=True)
    edges = quantile_edges(finite)
    codes = bin_codes(finite, edges)
    out.update(quantiles={str(q): float(v) for q, v in zip(QUANTILES, np.percentile(finite, QUANTILES))},
               mean=float(finite.mean()), std=float(finite.std()), n_distinct=int(len(distinct)),
               edges=edges.tolist(), counts=np.bincount(codes, minlength=len(edges) - 1).tolist())
    if len(distinct) <= MAX_VALUES:
        out.update(values=distinct.tolist(), value_counts=counts.tolist())
    return out


def categorical_profile(series: pd.Series, kind: str = CATEGORICAL) -> dict[str, Any]:
    """Missing rate and the counts of the most frequent categories, the rest pooled as ``other``."""
    codes, names = category_strings(series)
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    order = np.argsort(-counts, kind="stable")
    top = order[:MAX_CATEGORIES]
    return {"kind": kind, "profile": CATEGORICAL, "rows": int(len(series)),
            "missing_rate": float((codes < 0).mean()) if len(codes) else 0.0, "n_distinct": int(len(names)),
            "categories": names[top].tolist(), "counts": counts[top].tolist(),
            "other": int(counts[order[MAX_CATEGORIES:]].sum()), "seen": names[order[:MAX_SEEN]].tolist()}


def profile_column(series: pd.Series, kind: str) -> dict[str, Any]:
    if kind in (CATEGORICAL, BOOLEAN):
        return categorical_profile(series, kind)
    return numeric_profile(numbers(series, kind), kind)


def sample_values(profile: dict[str, Any], series: pd.Series) -> list:
    """A column's raw values as the tests read them (floats or canonical strings), JSON-ready."""
    if profile["profile"] == NUMERIC:
        arr = numbers(series, profile["kind"])
        return [None if np.isnan(v) else float(v) for v in arr]
    codes, names = category_strings(series)
    return [None if c < 0 else names[c] for c in codes]


# -- buckets of a profile: how live rows are counted against it ------------------------------
def buckets(profile: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """Bucket labels and the reference's counts in them (values or categories end with OTHER)."""
    if profile["profile"] == CATEGORICAL:
        return [*profile["categories"], OTHER], np.array([*profile["counts"], profile["other"]], dtype=float)
    if "values" in profile:
        return ([_number_label(v) for v in profile["values"]] + [OTHER],
                np.array([*profile["value_counts"], 0], dtype=float))
    edges = profile["edges"]
    labels = [f"[{_number_label(a)}, {_number_label(b)})" for a, b in zip(edges[:-1], edges[1:])]
    return labels, np.array(profile["counts"], dtype=float)


def bucket_codes(profile: dict[str, Any], series: pd.Series) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(bucket index per row (-1 missing), float values or None, categories never seen in training)."""
    if profile["profile"] == CATEGORICAL:
        codes, names = category_strings(series)
        lookup = {c: i for i, c in enumerate(profile["categories"])}
        other = len(profile["categories"])
        table = np.array([lookup.get(n, other) for n in names] + [-1], dtype=np.int64)
        seen = set(profile.get("seen", [])) | set(lookup)
        new = [n for n in names if n not in seen]
        if new:
            counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(names)), index=names)
            new = counts[new].sort_values(ascending=False).index.tolist()
        return table[codes], None, new
    values = numbers(series, profile["kind"])
    if "values" in profile:
        known = np.asarray(profile["values"], dtype=float)
        idx = np.clip(np.searchsorted(known, values), 0, len(known) - 1)
        codes = np.where(known[idx] == values, idx, len(known))
        return np.where(np.isfinite(values), codes, -1), values, []
    return bin_codes(values, np.asarray(profile["edges"], dtype=float)), values, []


def _number_label(value: float) -> str:
    return f"{value:.4g}"


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
    names = [class_name(str(c).removeprefix("proba_")) for c in (classes if classes is not None else frame.columns)]
    proba = frame.to_numpy(dtype=float)
    out = pd.DataFrame(proba, columns=[f"proba_{c}" for c in names])
    out[PREDICTED_CLASS] = np.asarray(names, dtype=object)[np.argmax(proba, axis=1)]
    return out


def class_name(label: object) -> str | None:
    """A class label as monitoring names it: canonical, so 1, 1.0 and '1.0' are the class '1'."""
    name = canonical(label)
    try:
        number = float(name)
    except (TypeError, ValueError):
        return name
    return canonical(number) if np.isfinite(number) else name


def class_labels(series: pd.Series) -> pd.Series:
    """:func:`class_name` of every row (None where missing), converting each distinct label once."""
    codes, names = category_strings(series)
    table = np.array([class_name(n) for n in names] + [None], dtype=object)
    return pd.Series(table[codes], index=series.index, dtype=object)


def prediction_profile(predictions, task: str, sample_rows: int, seed: int) -> tuple[dict, dict]:
    frame = prediction_frame(predictions, task)
    columns = {c: (categorical_profile(frame[c]) if c == PREDICTED_CLASS else numeric_profile(frame[c].to_numpy()))
               for c in frame.columns}
    classes = [c.removeprefix("proba_") for c in frame.columns if c.startswith("proba_")]
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
                          positive_class=experiment.meta.get("positive_class"))
    save_reference(experiment, ref)
    return ref


def _holdout_predictions(experiment) -> pd.DataFrame | pd.Series | None:
    try:
        hold = experiment.holdout()
    except AutoMLError:
        return None
    if experiment.task == "regression":
        return hold["prediction"] if "prediction" in hold.columns else None
    proba = [f"proba_{c}" for c in experiment.classes]
    return hold[proba] if proba and all(c in hold.columns for c in proba) else None
