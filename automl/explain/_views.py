"""The data behind the explanation charts: beeswarm, dependence and permutation importance.

Colour in a beeswarm means "feature value, low -> high". Numbers and dates are scaled to
0..1 between their 5th and 95th percentiles (as shap does, so one outlier doesn't wash
the colours out). Categories have no order, so each is coloured by the rank of its mean
SHAP value: the category pushing the output down most is "low", up most is "high".
Missing values get no colour (NaN, drawn grey).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shap

from automl import experiment as ex
from automl.data import DATETIME, NUMERIC, canonical_categories
from automl.errors import AutoMLError
from automl.evaluation import permutation_scores
from automl.experiment import Experiment
from automl.explain._explain import FOLDER, Explanation, global_importance
from automl.metrics import get_metric

PERMUTATION = f"{FOLDER}/permutation.json"
INTERACTION_ROWS = 10_000  # shap.utils.approximate_interactions shuffles with the global RNG above this


def feature_colours(explanation: Explanation) -> pd.DataFrame:
    """Every explained value scaled to 0..1 for colouring (NaN where missing); same shape as ``values``."""
    out = {}
    for j, feature in enumerate(explanation.features):
        kind = explanation.kinds.get(feature) or _guess_kind(explanation.data[feature])
        column = explanation.data[feature]
        if kind in (NUMERIC, DATETIME):
            out[feature] = _scaled(_as_number(column, kind))
        else:
            out[feature] = _category_ranks(column, explanation.values[:, j])
    return pd.DataFrame(out, columns=explanation.features)


def beeswarm_data(explanation: Explanation, top: int = 20, max_points: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Long table for a beeswarm: feature, rank (0 = most important), shap, value (raw, as text), colour.

    Rows are downsampled (seeded, the same rows for every feature) to ``max_points`` per feature.
    """
    order = global_importance(explanation)["feature"].tolist()[:top]
    colours = feature_colours(explanation)
    n = len(explanation.values)
    rows = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False)) if n > max_points \
        else np.arange(n)
    parts = []
    for rank, feature in enumerate(order):
        j = explanation.features.index(feature)
        parts.append(pd.DataFrame({
            "feature": feature, "rank": rank, "shap": explanation.values[rows, j],
            "value": [value_text(v) for v in explanation.data[feature].iloc[rows]],
            "colour": colours[feature].to_numpy()[rows]}))
    columns = ["feature", "rank", "shap", "value", "colour"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


@dataclass
class DependenceData:
    """One feature's raw values against its SHAP values, coloured by the feature it interacts with most."""

    feature: str
    kind: str
    x: pd.Series  # raw values
    shap: np.ndarray
    interaction: str | None
    interaction_x: pd.Series | None  # the interacting feature's raw values
    interaction_colour: np.ndarray | None  # ... scaled 0..1 (NaN where missing)
    output: str


def dependence_data(explanation: Explanation, feature: str, interaction: str | None = "auto") -> DependenceData:
    """``interaction='auto'`` picks the feature whose values best track this feature's SHAP values
    within bins of its own value (shap.utils.approximate_interactions); None colours nothing."""
    if feature not in explanation.features:
        raise AutoMLError(f"'{feature}' is not a feature of this model.",
                          f"Choose one of: {', '.join(explanation.features)}.")
    j = explanation.features.index(feature)
    colours = feature_colours(explanation)
    if interaction == "auto":
        interaction = strongest_interaction(explanation, feature, colours)
    elif interaction is not None and interaction not in explanation.features:
        raise AutoMLError(f"'{interaction}' is not a feature of this model.", "Choose another colouring feature.")
    kind = explanation.kinds.get(feature) or _guess_kind(explanation.data[feature])
    return DependenceData(
        feature=feature, kind=kind, x=explanation.data[feature].reset_index(drop=True),
        shap=explanation.values[:, j], interaction=interaction,
        interaction_x=None if interaction is None else explanation.data[interaction].reset_index(drop=True),
        interaction_colour=None if interaction is None else colours[interaction].to_numpy(),
        output=explanation.output)


def strongest_interaction(explanation: Explanation, feature: str, colours: pd.DataFrame | None = None) -> str | None:
    """The other feature shap's approximate_interactions ranks first (None if there is no other)."""
    if len(explanation.features) < 2 or len(explanation.values) < 2:
        return None
    colours = feature_colours(explanation) if colours is None else colours
    rows = slice(0, INTERACTION_ROWS)
    j = explanation.features.index(feature)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = shap.utils.approximate_interactions(j, explanation.values[rows], colours.to_numpy()[rows])
    others = [int(i) for i in ranked if int(i) != j]
    return explanation.features[others[0]] if others else None


@dataclass
class PermutationImportance:
    """Drop in the experiment's metric when a column is shuffled, on held-out rows."""

    table: pd.DataFrame  # feature, importance_mean, importance_std; largest first
    metric: str
    metric_label: str
    baseline: float  # the metric on the unshuffled rows
    n_rows_used: int
    n_rows_total: int
    n_repeats: int
    from_cache: bool = False
    # The shipped model was refit on all rows, so these rows trained it: the ranking holds, the sizes and the
    # baseline are optimistic (the held-out score is that of the model fitted without them).
    seen_by_model: bool = False


def permutation_importance(experiment: Experiment, n_repeats: int = 5, max_rows: int = 5000,
                           seed: int = 0) -> PermutationImportance:
    """A model-agnostic cross-check of SHAP importance, cached in ``explain/permutation.json``."""
    key = {"model": ex.model_fingerprint(experiment), "n_repeats": n_repeats, "max_rows": max_rows, "seed": seed}
    cached = experiment.read_json(PERMUTATION)
    if cached and cached.get("key") == key:
        return PermutationImportance(table=pd.DataFrame(cached["table"]), from_cache=True,
                                     seen_by_model=bool(cached.get("seen_by_model")),
                                     **{k: cached[k] for k in ("metric", "metric_label", "baseline", "n_rows_used",
                                                               "n_rows_total", "n_repeats")})
    features, target, task = experiment.schema.features, experiment.target, experiment.task
    hold = experiment.holdout()
    if len(hold) > max_rows:
        hold = hold.iloc[np.sort(np.random.default_rng(seed).choice(len(hold), max_rows, replace=False))]
    metric = get_metric(experiment.metric, task)
    positive = experiment.record.positive_class
    X, y = hold[features].reset_index(drop=True), hold[target].reset_index(drop=True)
    result = permutation_scores(experiment.load_model(), X, y, task, metric, positive, n_repeats, seed)
    baseline = result.baseline
    table = pd.DataFrame({"feature": features, "importance_mean": result.mean, "importance_std": result.std})
    table = table.sort_values("importance_mean", ascending=False, kind="stable").reset_index(drop=True)
    seen = bool(experiment.record.model is not None and experiment.record.model.saw_holdout)
    out = PermutationImportance(table=table, metric=metric.name, metric_label=metric.label,
                                baseline=float(baseline), n_rows_used=len(X),
                                n_rows_total=int(experiment.record.rows.holdout or len(X)),
                                n_repeats=n_repeats, seen_by_model=seen)
    experiment.write_json(PERMUTATION, {"key": key, "table": table.to_dict(orient="list"), "metric": out.metric,
                                        "metric_label": out.metric_label, "baseline": out.baseline,
                                        "n_rows_used": out.n_rows_used, "n_rows_total": out.n_rows_total,
                                        "n_repeats": n_repeats, "seen_by_model": seen})
    return out


def _guess_kind(column: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(column):
        return DATETIME
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    return NUMERIC if numeric else "categorical"


def _as_number(column: pd.Series, kind: str) -> np.ndarray:
    if kind == DATETIME:
        stamps = pd.to_datetime(column, errors="coerce", format="mixed")
        numbers = stamps.astype("int64").astype(float)
        return np.where(stamps.isna(), np.nan, numbers)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _scaled(x: np.ndarray) -> np.ndarray:
    finite = x[np.isfinite(x)]
    if len(finite) == 0:
        return np.full(len(x), np.nan)
    lo, hi = np.percentile(finite, [5, 95])
    if hi <= lo:
        lo, hi = finite.min(), finite.max()
    if hi <= lo:
        return np.where(np.isfinite(x), 0.5, np.nan)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def _category_ranks(column: pd.Series, shap_values: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"cat": canonical_categories(column), "shap": shap_values})  # the model's categories
    means = frame.dropna(subset=["cat"]).groupby("cat")["shap"].mean().sort_values(kind="stable")
    if len(means) == 0:
        return np.full(len(column), np.nan)
    rank = pd.Series(np.arange(len(means)) / max(len(means) - 1, 1) if len(means) > 1 else [0.5], index=means.index)
    return frame["cat"].map(rank).to_numpy(dtype=float, na_value=np.nan)


def value_text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "missing"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
