"""ONNX export of an experiment's model, checked against the model itself before it is kept.

ONNX inputs are typed per column (float32 for numbers, string for categories
and booleans), one input per original column, so any ONNX runtime can call
the file without our code. A conversion is only kept if onnxruntime agrees
with the joblib model on the held-out rows; otherwise :func:`onnx_support`
says why and no file is written. The experiment's schema, task and classes
travel in the file's metadata so :func:`onnx_predict` can cast raw rows.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.data import DATETIME, Schema, canonical_categories, require_columns
from automl.deploy._onnx_convert import MISSING_STRING, convert_pipeline
from automl.errors import AutoMLError
from automl.experiment import Experiment, atomic_write_bytes, model_fingerprint  # _export imports it from here too

ONNX_FILE = "export/model.onnx"
STATUS_FILE = "export/onnx.json"
PROBA_TOL = 1e-4


def onnx_support(experiment: Experiment) -> tuple[bool, str]:
    """Whether this experiment's model can be exported to ONNX, and why not when it can't."""
    from automl.algorithms import ALGORITHMS
    from automl.evaluation import base_model

    if not experiment.has_model:
        return False, "the experiment has no model yet"
    record = experiment.record
    if record.model is not None and record.model.is_ensemble:
        return False, ("the model is an ensemble of several pipelines; ONNX export covers single pipelines "
                       "(train again with ensembling off to get an ONNX file)")
    dates = [c.name for c in experiment.schema.columns if c.kind == DATETIME]
    if dates:
        return False, f"date column(s) {', '.join(dates)}: ONNX has no date parsing, so they can't be inputs"
    algo = (record.model.algorithm if record.model else None) or (record.best.algorithm if record.best else None)
    if algo in ALGORITHMS and not ALGORITHMS[algo].converts(experiment.task):  # the registry says which, and why
        return False, f"{ALGORITHMS[algo].label}: {ALGORITHMS[algo].onnx_reason}"
    model = base_model(experiment.load_model())
    if _has_multiclass_target_encoder(model):
        return False, "a target-encoded column in a multiclass model (skl2onnx converts binary/regression only)"
    status = experiment.read_json(STATUS_FILE, {}) or {}
    if status.get("fingerprint") == model_fingerprint(experiment) and status.get("error"):
        return False, status["error"]
    return True, ""


def export_onnx(experiment: Experiment) -> Path:
    """Write (or reuse) export/model.onnx; raise AutoMLError saying why when the model can't be converted."""
    ok, why = onnx_support(experiment)
    if not ok:
        experiment.file(ONNX_FILE).unlink(missing_ok=True)  # an earlier model's file would be wrong now
        raise AutoMLError(f"This model can't be exported to ONNX: {why}.",
                          "Use the joblib or skops file, which predict on raw rows too.")
    path, fingerprint = experiment.file(ONNX_FILE), model_fingerprint(experiment)
    status = experiment.read_json(STATUS_FILE, {}) or {}
    if path.exists() and status.get("fingerprint") == fingerprint and not status.get("error"):
        return path
    try:
        proto = _convert(experiment)
        session = _session_from_bytes(proto.SerializeToString())
    except Exception as err:  # a converter without support for something in this pipeline
        _record(experiment, fingerprint, error=f"the ONNX converter failed ({type(err).__name__}: {str(err)[:200]})")
        path.unlink(missing_ok=True)
        raise AutoMLError(f"This model can't be exported to ONNX: the converter failed ({type(err).__name__}).",
                          "Use the joblib or skops file, which predict on raw rows too.") from err
    parity = _parity(session, experiment)  # no held-out rows: an AutoMLError saying so, and no file
    if parity["rows_within"] < 0.99:
        why = (f"ONNX predictions differ from the model's on {1 - parity['rows_within']:.1%} of the held-out "
               f"rows (largest difference {parity['max_diff']:.3g})")
        _record(experiment, fingerprint, error=why, parity=parity)
        path.unlink(missing_ok=True)
        raise AutoMLError(f"This model can't be exported to ONNX: {why}.",
                          "Use the joblib or skops file, which predict on raw rows too.")
    atomic_write_bytes(path, proto.SerializeToString())
    _record(experiment, fingerprint, parity=parity)
    return path


def _record(experiment: Experiment, fingerprint: str, error: str | None = None, parity: dict | None = None) -> None:
    experiment.write_json(STATUS_FILE, {"fingerprint": fingerprint, "error": error, "parity": parity})


def _convert(experiment: Experiment):
    """The ONNX graph with our metadata; a decision threshold, if any, is applied inside the graph."""
    import onnx

    from automl.evaluation import ThresholdClassifier

    model, record = experiment.load_model(), experiment.record
    pipeline = model.estimator_ if isinstance(model, ThresholdClassifier) else model
    proto = pipeline_to_onnx(pipeline, experiment.schema, experiment.task, list(experiment.classes),
                             name=f"automl-{experiment.id}")
    if isinstance(model, ThresholdClassifier):
        _threshold_in_graph(proto, list(model.classes_), model.positive, float(model.threshold))
    info = {"automl.experiment": experiment.id, "automl.target": experiment.target,
            "automl.threshold": json.dumps(record.threshold)}
    onnx.helper.set_model_props(proto, {**{p.key: p.value for p in proto.metadata_props}, **info})
    return proto


def pipeline_to_onnx(pipeline, schema: Schema, task: str, classes: list, name: str = "automl"):
    """The ONNX graph of a fitted raw-rows pipeline, with the metadata :class:`OnnxModel` reads.

    No parity check here: :func:`export_onnx` compares it with the model before keeping a file.
    """
    import onnx

    coercer = pipeline.steps[0][1]
    numeric, strings = list(coercer.numeric or []), list(coercer.categorical or [])
    proto = convert_pipeline(pipeline, numeric, strings, name=name)
    names = [i.name for i in proto.graph.input]  # skl2onnx renames e.g. '1stFlrSF' to '_1stFlrSF'
    inputs = [{"column": c, "input": n, "type": "float" if c in numeric else "string"}
              for c, n in zip(numeric + strings, names)]
    onnx.helper.set_model_props(proto, {"automl.task": task, "automl.classes": json.dumps(classes, default=str),
                                        "automl.inputs": json.dumps(inputs),
                                        "automl.schema": json.dumps(schema.to_dict(), default=str)})
    return proto


def _threshold_in_graph(proto, classes: list, positive: Any, threshold: float) -> None:
    """Replace the argmax ``label`` output by 'positive if P(positive) >= threshold'."""
    from onnx import TensorProto, helper, numpy_helper

    graph = proto.graph
    label, proba = graph.output[0].name, graph.output[1].name
    for node in graph.node:
        node.output[:] = [f"{label}_argmax" if o == label else o for o in node.output]
    pos, neg = classes.index(positive), 1 - classes.index(positive)
    strings = graph.output[0].type.tensor_type.elem_type == TensorProto.STRING
    labels = np.array([str(classes[pos]), str(classes[neg])], dtype=object) if strings else \
        np.array([int(classes[pos]), int(classes[neg])], dtype=np.int64)
    graph.initializer.extend([
        numpy_helper.from_array(np.array([pos], dtype=np.int64), "thr_index"),
        numpy_helper.from_array(np.array(threshold, dtype=np.float32), "thr_value"),
        numpy_helper.from_array(labels[:1], "thr_pos"), numpy_helper.from_array(labels[1:], "thr_neg"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "thr_shape")])
    graph.node.extend([
        helper.make_node("Gather", [proba, "thr_index"], ["thr_p"], axis=1),
        helper.make_node("GreaterOrEqual", ["thr_p", "thr_value"], ["thr_cond"]),
        helper.make_node("Where", ["thr_cond", "thr_pos", "thr_neg"], ["thr_label"]),
        helper.make_node("Reshape", ["thr_label", "thr_shape"], [label])])


def _has_multiclass_target_encoder(model: Any) -> bool:
    from sklearn.preprocessing import TargetEncoder

    pre = getattr(model, "named_steps", {}).get("preprocess")
    if pre is None:
        return False
    found = [t for _, trans, _ in pre.transformers_ for t in getattr(trans, "named_steps", {}).values()
             if isinstance(t, TargetEncoder)]
    return any(t.target_type_ == "multiclass" for t in found)


def _parity(session_info: tuple, experiment: Experiment) -> dict[str, float]:
    """Share of held-out rows where ONNX agrees with the joblib model (labels, and probabilities within 1e-4)."""
    model = experiment.load_model()
    hold = experiment.holdout()
    X = hold[[c for c in experiment.schema.features if c in hold.columns]].head(2000)
    labels, proba = _run(*session_info, X)
    if experiment.task == "regression":
        ref = np.asarray(model.predict(X), dtype=float)
        tol = PROBA_TOL * max(1.0, float(np.mean(np.abs(ref))))
        diff = np.abs(np.asarray(labels, dtype=float) - ref)
        ok = diff <= tol
    else:
        ref = model.predict_proba(X)
        diff = np.abs(proba - ref).max(axis=1)
        ok = (diff <= PROBA_TOL) & (np.asarray([str(v) for v in labels]) == model.predict(X).astype(str))
    return {"rows": int(len(X)), "rows_within": float(ok.mean()) if len(ok) else 1.0,
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
    by_text = {str(c): c for c in info["classes"]}
    labels = np.asarray([by_text.get(str(v), v) for v in np.asarray(outputs[0]).ravel()], dtype=object)
    return labels, np.asarray(outputs[1], dtype=float)

