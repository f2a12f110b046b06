"""ONNX export of an experiment's model (single pipeline or ensemble), checked against the model before it is kept.

ONNX inputs are typed per column (float32 for numbers, string for categories
and booleans), one input per original column, so any ONNX runtime can call
the file without our code. A conversion is only kept if onnxruntime agrees
with the joblib model on the held-out rows (labels equal as the model returns
them, probabilities within :data:`PROBA_TOL`); otherwise :func:`onnx_support`
says why and no file is written. The experiment's schema, task and classes
travel in the file's metadata so :func:`onnx_predict` can cast raw rows and
give back labels of the model's own type.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.data import DATETIME, Schema, canonical_categories, require_columns
from automl.deploy._onnx_convert import MISSING_STRING
from automl.deploy._onnx_graph import class_list, labels_as_model, model_to_onnx
from automl.errors import AutoMLError
from automl.experiment import Experiment, atomic_write_bytes, model_fingerprint  # _export imports it from here too

ONNX_FILE = "export/model.onnx"
STATUS_FILE = "export/onnx.json"
PROBA_TOL = 1e-5  # float32 graphs measured within 1e-6 of the model (probabilities; regression relative)
FORMAT = 2  # files of format 1 gave booleans' labels as 0/1: they are written again, not reused


def onnx_support(experiment: Experiment) -> tuple[bool, str]:
    """Whether this experiment's model can be exported to ONNX, and why not when it can't."""
    from automl.algorithms import ALGORITHMS
    from automl.evaluation import base_model

    if not experiment.has_model:
        return False, "the experiment has no model yet"
    record = experiment.record
    dates = [c.name for c in experiment.schema.columns if c.kind == DATETIME]
    if dates:
        return False, f"date column(s) {', '.join(dates)}: ONNX has no date parsing, so they can't be inputs"
    for algo in _algorithms(record):
        why = ALGORITHMS[algo].onnx_refusal(experiment.task, experiment.schema) if algo in ALGORITHMS else ""
        if why:  # the registry says why
            return False, f"{ALGORITHMS[algo].label}: {why}"
    if any(_has_multiclass_target_encoder(p) for p in _pipelines(base_model(experiment.load_model()))):
        return False, "a target-encoded column in a multiclass model (skl2onnx converts binary/regression only)"
    status = experiment.read_json(STATUS_FILE, {}) or {}
    if status.get("fingerprint") == model_fingerprint(experiment) and status.get("format") == FORMAT \
            and status.get("error"):
        return False, status["error"]
    return True, ""


def _algorithms(record) -> list[str]:
    """The algorithms in the model: every ensemble member's, or the single model's."""
    model = record.model
    if model is not None and model.is_ensemble and model.ensemble is not None:
        return [m.algorithm for m in model.ensemble.members if m.algorithm]
    algo = (model.algorithm if model else None) or (record.best.algorithm if record.best else None)
    return [algo] if algo else []


def _pipelines(model: Any) -> list:
    from automl.final import WeightedEnsemble

    return list(model.estimators_) if isinstance(model, WeightedEnsemble) else [model]


def export_onnx(experiment: Experiment) -> Path:
    """Write (or reuse) export/model.onnx; raise AutoMLError saying why when the model can't be converted."""
    ok, why = onnx_support(experiment)
    if not ok:
        experiment.file(ONNX_FILE).unlink(missing_ok=True)  # an earlier model's file would be wrong now
        raise AutoMLError(f"This model can't be exported to ONNX: {why}.",
                          "Use the joblib or skops file, which predict on raw rows too.")
    path, fingerprint = experiment.file(ONNX_FILE), model_fingerprint(experiment)
    status = experiment.read_json(STATUS_FILE, {}) or {}
    if path.exists() and status.get("fingerprint") == fingerprint and not status.get("error") \
            and status.get("format") == FORMAT:
        return path
    try:
        proto = _convert(experiment)
        session = _session_from_bytes(proto.SerializeToString())
    except Exception as err:  # a converter without support for something in this pipeline
        _record(experiment, fingerprint, error=f"the ONNX converter failed ({type(err).__name__}: {str(err)[:200]})")
        path.unlink(missing_ok=True)
        raise AutoMLError(f"This model can't be exported to ONNX: the converter failed ({type(err).__name__}: "
                          f"{str(err)[:100]}).", "Use the joblib or skops file, which predict on raw rows too.") \
            from err
    parity = _parity(session, experiment)  # no held-out rows: an AutoMLError saying so, and no file
    if parity["rows_within"] < 0.99:
        why = (f"ONNX predictions differ from the model's on {1 - parity['rows_within']:.1%} of the held-out "
               f"rows (largest difference {parity['max_diff']:.3g}"
               + (f"; labels differ on {parity['labels_differ']:.1%})" if parity.get("labels_differ") else ")"))
        _record(experiment, fingerprint, error=why, parity=parity)
        path.unlink(missing_ok=True)
        raise AutoMLError(f"This model can't be exported to ONNX: {why}.",
                          "Use the joblib or skops file, which predict on raw rows too.")
    atomic_write_bytes(path, proto.SerializeToString())
    _record(experiment, fingerprint, parity=parity)
    return path


def _record(experiment: Experiment, fingerprint: str, error: str | None = None, parity: dict | None = None) -> None:
    experiment.write_json(STATUS_FILE, {"fingerprint": fingerprint, "format": FORMAT, "error": error,
                                        "parity": parity})


def _convert(experiment: Experiment):
    """The ONNX graph with our metadata; an ensemble's blend and a decision threshold are inside the graph."""
    import onnx

    record = experiment.record
    proto = model_to_onnx(experiment.load_model(), experiment.task, name=f"automl-{experiment.id}")
    _set_metadata(proto, experiment.schema, experiment.task, experiment.load_model())
    info = {"automl.experiment": experiment.id, "automl.target": experiment.target,
            "automl.threshold": json.dumps(record.threshold)}
    onnx.helper.set_model_props(proto, {**{p.key: p.value for p in proto.metadata_props}, **info})
    return proto


def pipeline_to_onnx(pipeline, schema: Schema, task: str, classes: list | None = None, name: str = "automl"):
    """The ONNX graph of a fitted raw-rows model (pipeline, ensemble, thresholded), with the metadata
    :class:`OnnxModel` reads. The classes are the model's own (``classes`` is kept for old callers).

    No parity check here: :func:`export_onnx` compares it with the model before keeping a file.
    """
    proto = model_to_onnx(pipeline, task, name=name)
    _set_metadata(proto, schema, task, pipeline)
    return proto


def _set_metadata(proto, schema: Schema, task: str, model: Any) -> None:
    import onnx

    from automl.evaluation import base_model

    first = _pipelines(base_model(model))[0]
    coercer = first.steps[0][1]
    numeric, strings = list(coercer.numeric or []), list(coercer.categorical or [])
    names = [i.name for i in proto.graph.input]  # skl2onnx renames e.g. '1stFlrSF' to '_1stFlrSF'
    inputs = [{"column": c, "input": n, "type": "float" if c in numeric else "string"}
              for c, n in zip(numeric + strings, names)]
    classes = [] if task == "regression" else class_list(model)
    onnx.helper.set_model_props(proto, {"automl.task": task, "automl.classes": json.dumps(classes, default=str),
                                        "automl.inputs": json.dumps(inputs), "automl.format": str(FORMAT),
                                        "automl.schema": json.dumps(schema.to_dict(), default=str)})


def _has_multiclass_target_encoder(model: Any) -> bool:
    from sklearn.preprocessing import TargetEncoder

    pre = getattr(model, "named_steps", {}).get("preprocess")
    if pre is None:
        return False
    found = [t for _, trans, _ in pre.transformers_ for t in getattr(trans, "named_steps", {}).values()
             if isinstance(t, TargetEncoder)]
    return any(t.target_type_ == "multiclass" for t in found)


def _parity(session_info: tuple, experiment: Experiment) -> dict[str, float]:
    """Share of held-out rows where ONNX agrees with the joblib model (labels, and probabilities within tolerance)."""
    hold = experiment.holdout()
    X = hold[[c for c in experiment.schema.features if c in hold.columns]].head(2000)
    return parity(experiment.load_model(), *session_info, X)


def parity(model: Any, session, info: dict, X: pd.DataFrame) -> dict[str, float]:
    """How far an ONNX session is from ``model`` on rows ``X``: regression values within PROBA_TOL relative to
    their mean size; labels equal in value and type (True is not 1) and probabilities within PROBA_TOL."""
    labels, proba = _run(session, info, X)
    out: dict[str, float] = {}
    if info["task"] == "regression":
        ref = np.asarray(model.predict(X), dtype=float)
        tol = PROBA_TOL * max(1.0, float(np.mean(np.abs(ref)))) if len(ref) else PROBA_TOL
        diff = np.abs(np.asarray(labels, dtype=float) - ref)
        ok, out["tolerance"] = diff <= tol, tol
    else:
        ref = model.predict_proba(X)
        diff = np.abs(proba - ref).max(axis=1)
        same = [a == b and type(a) is type(b) for a, b in zip(labels.tolist(), np.asarray(model.predict(X)).tolist())]
        ok = (diff <= PROBA_TOL) & np.asarray(same, dtype=bool)
        out["labels_differ"] = float(1 - np.mean(same)) if same else 0.0
    return {**out, "rows": int(len(X)), "rows_within": float(ok.mean()) if len(ok) else 1.0,
            "max_diff": float(diff.max()) if len(diff) else 0.0}


# -- running an ONNX file ------------------------------------------------------------------------------------------
class OnnxModel:
    """An ONNX file behind the scikit-learn predict API, on raw rows (as a DataFrame)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.session, self.info = _session(str(self.path), self.path.stat().st_mtime_ns)
        self.task: str = self.info["task"]
        self.schema: Schema = self.info["schema"]
        if self.task != "regression":
            self.classes_ = np.asarray(self.info["classes"], dtype=object)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return _run(self.session, self.info, X)[0]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.task == "regression":
            raise AttributeError("a regression model has no predict_proba")
        return _run(self.session, self.info, X)[1]


def onnx_predict(path: str | Path, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """(labels or values, class probabilities or None) from onnxruntime on raw rows, cast per the file's schema."""
    model = OnnxModel(path)
    return _run(model.session, model.info, frame)


@lru_cache(maxsize=8)
def _session(path: str, mtime_ns: int):
    try:
        return _session_from_bytes(Path(path).read_bytes())
    except (OSError, ValueError, KeyError) as err:
        raise AutoMLError(f"'{path}' is not an ONNX model exported by this tool ({err}).",
                          "Export it again from the experiment (Predict page or `automl predict`).") from err


def _session_from_bytes(data: bytes):
    import onnx
    import onnxruntime as rt

    props = {p.key: p.value for p in onnx.load_model_from_string(data).metadata_props}
    info = {"task": props["automl.task"], "classes": json.loads(props["automl.classes"]),
            "inputs": json.loads(props["automl.inputs"]), "target": props.get("automl.target"),
            "schema": Schema.from_dict(json.loads(props["automl.schema"])),
            "experiment": props.get("automl.experiment")}
    options = rt.SessionOptions()
    options.log_severity_level = 3
    return rt.InferenceSession(data, options, providers=["CPUExecutionProvider"]), info


def _run(session, info: dict, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    require_columns(frame, [i["column"] for i in info["inputs"]])
    feeds = {}
    for item in info["inputs"]:
        col = frame[item["column"]]
        if item["type"] == "float":
            feeds[item["input"]] = pd.to_numeric(col, errors="coerce").to_numpy(np.float32).reshape(-1, 1)
        else:
            text = canonical_categories(col)
            feeds[item["input"]] = text.where(text.notna(), MISSING_STRING).astype(str).to_numpy(object).reshape(-1, 1)
    outputs = session.run(None, feeds)
    if info["task"] == "regression":
        return np.asarray(outputs[0], dtype=float).ravel(), None
    return labels_as_model(outputs[0], info["classes"]), np.asarray(outputs[1], dtype=float)

