"""Explanations of an experiment's model, in the original columns the user knows.

``explain_experiment`` computes SHAP values on a seeded sample of the training rows (at least
1,000, at most ``max_rows``, more only while a time budget allows) and caches them in the
experiment folder (``explain/shap_<class>.*``: parquet rows, npz values, a JSON written last), keyed
by the model fingerprint, so reopening a page is instant and the HTML report reads the very same
values. It also writes ``explain/importance.json`` (column -> share of mean |SHAP|), which
monitoring reads. Beeswarm, dependence and permutation-importance data live in ``_views``.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl import experiment as ex
from automl.algorithms import ALGORITHMS
from automl.data import require_columns
from automl.errors import AutoMLError
from automl.evaluation import base_model
from automl.experiment import Experiment
from automl.explain._members import build_explainer, member_kind
from automl.explain._shap_values import (
    LINEAR_BACKGROUND_ROWS,
    REGRESSION,
    ModelExplainer,
    OutputTarget,
    explain_in_chunks,
)

FOLDER = "explain"
IMPORTANCE = f"{FOLDER}/importance.json"
CACHE_VERSION = 2  # 2: ensembles member by member, at least 1,000 rows
DEFAULT_ROWS, DEFAULT_BUDGET_S = 2000, 5.0  # the one setting the page and the report share


@dataclass
class Explanation:
    """SHAP values of ``data`` (raw rows), one column per original feature, in the ``output`` space."""

    values: np.ndarray  # (n_rows, n_features)
    base_value: float
    features: list[str]
    data: pd.DataFrame  # the raw rows explained, columns = features
    output: str  # e.g. "log-odds of class 'bad'"
    explainer: str
    n_rows_used: int
    n_rows_total: int
    cls: str | None = None  # the explained class as text (None for regression)
    kinds: dict[str, str] = field(default_factory=dict)  # schema kind per feature
    from_cache: bool = False

    def save(self, folder: Path, stem: str, key: dict[str, Any]) -> None:
        """Rows, values and then the JSON (written last: it marks the cache complete)."""
        ex.atomic_write_with(folder / f"{stem}.parquet", lambda p: self.data.to_parquet(p, index=False))
        buffer = io.BytesIO()
        np.savez(buffer, values=self.values, base_value=np.asarray(self.base_value))
        ex.atomic_write_bytes(folder / f"{stem}.npz", buffer.getvalue())
        about = {"key": key, "features": self.features, "output": self.output, "explainer": self.explainer,
                 "n_rows_used": self.n_rows_used, "n_rows_total": self.n_rows_total, "cls": self.cls,
                 "kinds": self.kinds}
        ex.write_json(folder / f"{stem}.json", about)

    @classmethod
    def load(cls, folder: Path, stem: str, key: dict[str, Any] | None = None) -> Explanation | None:
        """The cached explanation, or None when absent, incomplete or made for another key."""
        try:
            about = ex.read_json(folder / f"{stem}.json")
            if key is not None and about.get("key") != key:
                return None
            with np.load(folder / f"{stem}.npz", allow_pickle=False) as arrays:
                values, base = arrays["values"], float(arrays["base_value"])
            data = pd.read_parquet(folder / f"{stem}.parquet")
        except (OSError, ValueError, KeyError):
            return None
        return cls(values=values, base_value=base, features=about["features"], data=data, output=about["output"],
                   explainer=about["explainer"], n_rows_used=about["n_rows_used"], n_rows_total=about["n_rows_total"],
                   cls=about["cls"], kinds=about.get("kinds", {}), from_cache=True)


@dataclass
class LocalExplanation:
    """Why the model said what it said about one row: base value + values = prediction."""

    values: np.ndarray  # (n_features,)
    base_value: float
    prediction: float  # the model's output for the row, in the ``output`` space
    features: list[str]
    raw: dict[str, Any]  # the row's raw values per feature
    output: str
    explainer: str
    cls: str | None = None
    predicted: Any = None  # what model.predict says (a class label or a value), when computed


def explain_experiment(experiment: Experiment, cls: Any = None, max_rows: int = DEFAULT_ROWS, seed: int = 0,
                       time_budget: float | None = DEFAULT_BUDGET_S,
                       progress: Callable[[float, str], None] | None = None) -> Explanation:
    """SHAP values of a seeded sample of training rows, from the cache when it matches these arguments.

    ``cls`` is the class explained (default: the positive class for binary, the most frequent for
    multiclass). ``time_budget`` (seconds) stops adding rows beyond the first 1,000 (or ``max_rows``)
    once spent; ``n_rows_used`` says how many. ``progress(fraction, text)`` hears of each step.
    """
    if max_rows < 1:
        raise AutoMLError(f"The 'max_rows' parameter must be at least 1. Got {max_rows} instead.",
                          "Explain at least one row, e.g. max_rows=2000.")
    target = output_target(experiment, cls)
    folder, stem = experiment.file(FOLDER), _stem(target)
    key = _key(experiment, max_rows, seed, time_budget)
    cached = Explanation.load(folder, stem, key)
    if cached is not None:
        return cached
    features = experiment.schema.features
    X = experiment.train_frame()[features]
    order = np.random.default_rng(seed).permutation(len(X))[:max_rows]
    rows = X.iloc[order].reset_index(drop=True)
    if progress is not None:
        progress(0.0, "preparing the explainers")
    explainer = make_explainer(experiment, target.name if target.index is not None else None, seed)
    values, base, used = explain_in_chunks(explainer, rows, time_budget, progress)
    result = Explanation(values=values, base_value=base, features=features, data=rows.iloc[:used],
                         output=explainer.output, explainer=explainer.name, n_rows_used=used, n_rows_total=len(X),
                         cls=None if target.index is None else target.name, kinds=_kinds(experiment))
    result.save(folder, stem, key)
    if target.name == output_target(experiment, None).name:
        experiment.write_json(IMPORTANCE, importance_shares(result))
    return result


def explanation_ready(experiment: Experiment, cls: Any = None, max_rows: int = DEFAULT_ROWS, seed: int = 0,
                      time_budget: float | None = DEFAULT_BUDGET_S) -> bool:
    """Whether ``explain_experiment`` with these arguments would read its cache (reads one small JSON)."""
    about = experiment.read_json(f"{FOLDER}/{_stem(output_target(experiment, cls))}.json")
    return bool(about) and about.get("key") == _key(experiment, max_rows, seed, time_budget)


def load_explanation(experiment: Experiment, cls: Any = None) -> Explanation | None:
    """The cached explanation of the current model for ``cls`` whatever rows made it, computing nothing."""
    stem = _stem(output_target(experiment, cls))
    about = experiment.read_json(f"{FOLDER}/{stem}.json") or {}
    key = about.get("key") or {}
    current = {"version": CACHE_VERSION, "model": _model_fingerprint(experiment)}
    if {k: key.get(k) for k in current} != current:
        return None  # made for another model (or by another version): stale
    return Explanation.load(experiment.file(FOLDER), stem, key)


def make_explainer(experiment: Experiment, cls: Any = None, seed: int = 0) -> ModelExplainer:
    """The model wrapped in its SHAP explainer; cache it (st.cache_resource) to explain rows quickly."""
    shipped = experiment.load_model()
    model = base_model(shipped)  # a decision threshold does not change the probabilities
    target = output_target(experiment, cls, model)
    schema = experiment.schema
    train = experiment.train_frame()[schema.features]
    background = train.sample(n=min(len(train), LINEAR_BACKGROUND_ROWS), random_state=int(seed))  # not the global RNG
    record = experiment.record
    algorithm = (record.model.algorithm if record.model else None) or (record.best.algorithm if record.best else None)
    kind = ALGORITHMS[algorithm].explainer if algorithm in ALGORITHMS else member_kind(model, experiment.task)
    explainer = build_explainer(model, kind, schema.features, target, background, seed)
    explainer.predictor = shipped  # predicts as shipped (with its threshold, if any)
    return explainer


def explain_row(experiment: Experiment, row: pd.DataFrame, cls: Any = None,
                explainer: ModelExplainer | None = None) -> LocalExplanation:
    """SHAP values of one raw row (from the data or typed into a prediction form)."""
    if not isinstance(row, pd.DataFrame) or len(row) != 1:
        raise AutoMLError("Exactly one row can be explained at a time.", "Pass a DataFrame with one row.")
    explainer = explainer or make_explainer(experiment, cls)
    require_columns(row, explainer.features, where="The row", then="explain it again")
    row = row[explainer.features].reset_index(drop=True)
    values, base = explainer.explain(row, precise=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predicted = getattr(explainer, "predictor", explainer.model).predict(row)[0]
    return LocalExplanation(values=values[0], base_value=base, prediction=float(base + values[0].sum()),
                            features=explainer.features, raw=row.iloc[0].to_dict(), output=explainer.output,
                            explainer=explainer.name, cls=_cls_text(explainer), predicted=_plain(predicted))


def row_explanation(explanation: Explanation, i: int) -> LocalExplanation:
    """Row ``i`` of a global explanation, as a local one (no recomputation)."""
    values = explanation.values[i]
    return LocalExplanation(values=values, base_value=explanation.base_value,
                            prediction=float(explanation.base_value + values.sum()), features=explanation.features,
                            raw=explanation.data.iloc[i].to_dict(), output=explanation.output,
                            explainer=explanation.explainer, cls=explanation.cls)


def global_importance(explanation: Explanation) -> pd.DataFrame:
    """Mean |SHAP| per original column, largest first, with its share of the total."""
    mean_abs = np.abs(explanation.values).mean(axis=0) if len(explanation.values) else np.zeros(
        len(explanation.features))
    total = mean_abs.sum()
    share = mean_abs / total if total > 0 else np.full(len(mean_abs), 1.0 / max(len(mean_abs), 1))
    table = pd.DataFrame({"feature": explanation.features, "mean_abs_shap": mean_abs, "share": share})
    return table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)


def importance_shares(explanation: Explanation) -> dict[str, float]:
    """Original column -> mean |SHAP| normalised to sum 1 (equal shares if the model ignores everything)."""
    table = global_importance(explanation)
    return {str(f): float(s) for f, s in zip(table["feature"], table["share"])}


def output_target(experiment: Experiment, cls: Any = None, model: Any = None) -> OutputTarget:
    """The explained output: ``cls`` (default positive / most frequent class) or the regression value."""
    if experiment.task == REGRESSION:
        return OutputTarget(REGRESSION, (), None, str(experiment.target))
    classes = list(experiment.classes)
    if cls is None:
        cls = experiment.record.positive_class if experiment.task == "binary" else None
        if cls is None:
            y = pd.read_parquet(experiment.file(ex.TRAIN), columns=[experiment.target])[experiment.target]
            counts = y.astype(str).value_counts()
            cls = sorted(counts[counts == counts.max()].index)[0]
    names = [str(c) for c in classes]
    if str(cls) not in names:
        raise AutoMLError(f"'{cls}' is not one of the classes of this experiment ({', '.join(names)}).",
                          "Choose one of those classes.")
    model_classes = [str(c) for c in getattr(model, "classes_", classes)]
    return OutputTarget(experiment.task, tuple(model_classes), model_classes.index(str(cls)), str(cls))


def _stem(target: OutputTarget) -> str:
    if target.index is None:
        return "shap_value"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", target.name)[:40]
    return f"shap_{slug}-{hashlib.sha1(target.name.encode()).hexdigest()[:6]}"


def _key(experiment: Experiment, max_rows: int, seed: int, time_budget: float | None) -> dict[str, Any]:
    return {"version": CACHE_VERSION, "model": _model_fingerprint(experiment), "max_rows": int(max_rows),
            "seed": int(seed), "time_budget": time_budget}


def _model_fingerprint(experiment: Experiment) -> str:
    """Changes when the model file is rewritten (e.g. a resumed search refits it)."""
    if not experiment.has_model:
        raise AutoMLError(f"Experiment {experiment.id} has no model to explain yet.",
                          "Wait for the search to finish, or train it again.")
    return ex.model_fingerprint(experiment)


def _kinds(experiment: Experiment) -> dict[str, str]:
    return {c.name: c.kind for c in experiment.schema.columns if c.usable}


def _cls_text(explainer: ModelExplainer) -> str | None:
    target = getattr(explainer, "target", None)
    return None if target is None or target.index is None else target.name


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


__all__ = ["Explanation", "LocalExplanation", "explain_experiment", "explanation_ready", "load_explanation",
           "make_explainer", "explain_row", "row_explanation", "global_importance", "importance_shares",
           "output_target"]
