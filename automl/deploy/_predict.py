"""Predictions on a table of new rows: the same code for the dashboard, the CLI and the REST service.

Rows come back in input order with a ``prediction`` column, one
``proba_<class>`` column per class for classification, and an ``errors``
column naming what could not be read in that row (the row is still predicted,
with the unreadable value treated as missing) - one bad cell never fails a file.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.data import CATEGORICAL, DATETIME, NUMERIC, ColumnInfo, Schema, proba_column
from automl.deploy._input_check import check_rows
from automl.deploy._serve_fast import FastPipeline, fast_model
from automl.errors import AutoMLError
from automl.experiment import META, Experiment, load_model_file, model_fingerprint


@dataclass
class PredictionResult:
    """What a model said about a table of rows."""

    frame: pd.DataFrame  # the input rows (all their columns) followed by the output columns
    inputs: pd.DataFrame  # the model's columns, as typed for it (what the prediction log stores)
    task: str
    classes: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    output_frame: pd.DataFrame | None = None  # the output columns alone, when already built apart

    @property
    def output_columns(self) -> list[str]:
        return ["prediction", *[proba_column(c) for c in self.classes], "errors"]

    @property
    def outputs(self) -> pd.DataFrame:
        """``prediction``, the class probabilities and ``errors``, one row per input row."""
        return self.output_frame if self.output_frame is not None else self.frame[self.output_columns]

    @property
    def n_errors(self) -> int:
        return int((self.frame["errors"] != "").sum())


def predict_frame(model: Any, frame: pd.DataFrame, schema: Schema, task: str, classes: list) -> PredictionResult:
    """Predict every row of ``frame`` (raw values) with ``model`` (any format from :func:`automl.export.load_model`)."""
    if not isinstance(frame, pd.DataFrame):
        raise AutoMLError("Predictions need a table (a DataFrame).", "Read the file with automl.read_table first.")
    checked = check_rows(frame, schema)
    inputs = checked.frame
    base = frame.reset_index(drop=True)
    classes = list(classes) if task != "regression" else []
    produced = {"prediction", "errors", *[proba_column(c) for c in classes]}
    if produced & set(base.columns):
        base = base.drop(columns=[c for c in base.columns if c in produced])
    if len(inputs):
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # sklearn's feature-name and LightGBM chatter, per call
            labels, proba = _predict(model, inputs, bool(classes))
    else:
        labels, proba = np.asarray([]), np.zeros((0, len(classes)))
    # Built as one frame and joined once: inserting columns one by one costs ~1 ms each on a one-row request.
    outputs: dict[str, Any] = {"prediction": labels.astype(float) if task == "regression"
                               else _as_classes(labels, classes)}
    if classes:
        order = _class_order(model, classes)
        for j, c in enumerate(classes):
            outputs[proba_column(c)] = proba[:, order[j]] if len(inputs) else []
    outputs["errors"] = checked.row_errors.to_numpy(dtype=object) if len(inputs) else []
    output_frame = pd.DataFrame(outputs, index=base.index)
    out = pd.concat([base, output_frame], axis=1)
    return PredictionResult(out, inputs, task, classes, checked.warnings, output_frame)


def _predict(model: Any, X: pd.DataFrame, with_proba: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels (and probabilities); a Pipeline's preprocessing runs once for both."""
    from sklearn.pipeline import Pipeline

    final = model
    if isinstance(model, FastPipeline):
        X, final = model.transform(X), model.final
    elif isinstance(model, Pipeline) and len(model.steps) > 1:
        X, final = model[:-1].transform(X), model.steps[-1][1]
    labels = np.asarray(final.predict(X))
    return labels, (np.asarray(final.predict_proba(X), dtype=float) if with_proba else None)


def _class_order(model: Any, classes: list) -> list[int]:
    """Column of ``predict_proba`` for each class of the experiment (they normally match one to one)."""
    model_classes = [str(c) for c in getattr(model, "classes_", classes)]
    try:
        return [model_classes.index(str(c)) for c in classes]
    except ValueError as err:
        raise AutoMLError(f"The model's classes {model_classes} do not match the experiment's {classes}.",
                          "Predict with the model file that belongs to this experiment.") from err


def _as_classes(labels: np.ndarray, classes: list) -> np.ndarray:
    """Labels as the experiment's own class values (ONNX and skops may return them as text)."""
    by_text = {str(c): c for c in classes}
    return np.asarray([by_text.get(str(v), v) for v in labels], dtype=object)


def predict_experiment(experiment: Experiment, frame: pd.DataFrame, log: bool = True,
                       source: str = "batch") -> PredictionResult:
    """Predict with the experiment's model and (by default) append the rows to its prediction log."""
    from automl.deploy import _prediction_log as prediction_log

    model = cached_fast_model(experiment)
    result = predict_frame(model, frame, experiment.schema, experiment.task, list(experiment.classes))
    if log and len(result.inputs):
        prediction_log.append(experiment, result.inputs, result.outputs, source)
    return result


def cached_model(experiment: Experiment) -> Any:
    """The experiment's model, loaded (safely, see :meth:`Experiment.load_model`) once per process while its
    file is unchanged."""
    if not experiment.has_model:
        raise experiment.no_model_error()
    return _load_checked(str(experiment.model_path), model_fingerprint(experiment))


@lru_cache(maxsize=4)
def _load_checked(path: str, fingerprint: str) -> Any:
    return load_model_file(path)  # the fingerprint is only the cache key: a rewritten file loads again


def cached_fast_model(experiment: Experiment) -> Any:
    """:func:`cached_model` with its preprocessing tabulated for small frames (see :mod:`._serve_fast`)."""
    if not experiment.has_model:
        raise experiment.no_model_error()
    return _fast_checked(str(experiment.model_path), model_fingerprint(experiment))


@lru_cache(maxsize=4)
def _fast_checked(path: str, fingerprint: str) -> Any:
    return fast_model(_load_checked(path, fingerprint))


def single_threaded(model: Any) -> Any:
    """A copy of ``model`` whose estimators use one thread: for one row, starting threads costs more than it saves."""
    import copy

    model = copy.deepcopy(model)
    stack = [model]
    while stack:
        est = stack.pop()
        if hasattr(est, "get_params") and "n_jobs" in est.get_params(deep=False):
            est.set_params(n_jobs=1)
        stack += [s for _, s in getattr(est, "steps", [])]
        stack += list(getattr(est, "estimators_", None) or [])
        if getattr(est, "estimator_", None) is not None:
            stack.append(est.estimator_)
    return model


def describe_model(model: Any) -> tuple[Schema, str, list]:
    """(schema, task, classes) of a bare model file, read from the model itself.

    ONNX files carry the experiment's schema; for joblib and skops files the
    columns and their kinds come from the pipeline's first step (FrameCoercer).
    """
    from automl.data import FrameCoercer
    from automl.deploy._onnx_export import OnnxModel

    if isinstance(model, OnnxModel):
        return model.schema, model.task, list(model.info["classes"])
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(model, "classes_", [])]
    task = "regression" if not classes else ("binary" if len(classes) == 2 else "multiclass")
    inner = model
    while not isinstance(inner, FrameCoercer):
        if hasattr(inner, "steps"):
            inner = inner.steps[0][1]
        elif hasattr(inner, "estimators_"):
            inner = inner.estimators_[0]
        elif hasattr(inner, "estimator_"):
            inner = inner.estimator_
        else:
            raise AutoMLError(f"Can't tell which columns this model ({type(model).__name__}) expects.",
                              "Predict with the experiment id instead of the model file.")
    cols = [ColumnInfo(c, kind, "", 0, 0) for kind, names in
            ((NUMERIC, inner.numeric), (CATEGORICAL, inner.categorical), (DATETIME, inner.datetime))
            for c in names or []]
    return Schema(cols, 0), task, classes


def experiment_of_file(path: Path) -> Experiment | None:
    """The experiment folder a model file sits in (its own model file, or export/model.*), if any."""
    for folder in (path.parent, path.parent.parent):
        if (folder / META).exists():
            return Experiment(folder)
    return None
