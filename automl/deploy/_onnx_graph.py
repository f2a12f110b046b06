"""The shipped model, single pipeline or ensemble, as one ONNX graph on the raw per-column inputs.

Each member pipeline is converted on its own (:func:`convert_pipeline`), its names prefixed so the
graphs can sit side by side on the same inputs; their probabilities (or predictions) are averaged
with the ensemble's weights, a regression blend is clipped to the ensemble's target range, and the
label is picked from the averaged probabilities: argmax, or the saved decision threshold. Exactly
what :class:`automl.final.WeightedEnsemble` and :class:`automl.evaluation.ThresholdClassifier` do
in Python, so the two agree. The label output holds the classes as the model returns them
(booleans, integers or strings), not the class index skl2onnx's converters emit for booleans.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from automl.deploy._onnx_convert import convert_pipeline

LABEL, PROBA, VALUE = "label", "probabilities", "variable"  # the outputs, as skl2onnx names them


def model_to_onnx(model: Any, task: str, name: str = "automl"):
    """ModelProto of a fitted raw-rows model: a Pipeline, a WeightedEnsemble of them, either in a threshold."""
    from automl.evaluation import ThresholdClassifier
    from automl.final import WeightedEnsemble

    threshold = None
    if isinstance(model, ThresholdClassifier):
        threshold = (model.positive_index_, float(model.threshold))
        model = model.estimator_
    if isinstance(model, WeightedEnsemble):
        pipelines, weights, span = list(model.estimators_), list(model.weights_), model.target_range
    else:
        pipelines, weights, span = [model], [1.0], None
    coercer = pipelines[0].steps[0][1]
    numeric, strings = list(coercer.numeric or []), list(coercer.categorical or [])
    protos = [convert_pipeline(p, numeric, strings, name=f"{name}-{i}") for i, p in enumerate(pipelines)]
    classes = None if task == "regression" else class_list(model)
    return blend(protos, weights, classes, span, threshold, name)


def class_list(model: Any) -> list:
    """The model's classes as plain Python values, in its probability columns' order."""
    return [c.item() if isinstance(c, np.generic) else c for c in model.classes_]


def blend(protos: list, weights: list[float], classes: list | None, span: tuple[float, float] | None,
          threshold: tuple[int, float] | None, name: str):
    """One graph running every member on the shared inputs; ``classes`` None means regression."""
    from onnx import TensorProto, compose, helper, numpy_helper

    inputs = list(protos[0].graph.input)
    signature = [(i.name, i.type.SerializeToString()) for i in inputs]
    nodes, inits, infos, parts, opsets = [], [], [], [], {}
    for k, proto in enumerate(protos):
        if [(i.name, i.type.SerializeToString()) for i in proto.graph.input] != signature:
            raise ValueError("the ensemble's members read different inputs")
        graph = compose.add_prefix(proto, f"m{k}_", rename_inputs=False).graph
        nodes += graph.node
        inits += graph.initializer
        infos += graph.value_info
        out = graph.output[0 if classes is None else 1].name  # the probabilities, or the predictions
        if len(protos) > 1 or weights[0] != 1.0:
            inits.append(numpy_helper.from_array(np.array(weights[k], dtype=np.float32), f"w{k}"))
            nodes.append(helper.make_node("Mul", [out, f"w{k}"], [f"weighted{k}"]))
            out = f"weighted{k}"
        parts.append(out)
        for op in proto.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    total = VALUE if classes is None else PROBA
    if classes is None and span is not None:
        total = "blend"
    nodes.append(helper.make_node("Sum", parts, [total]) if len(parts) > 1 else
                 helper.make_node("Identity", parts, [total]))
    if classes is None:
        if span is not None:  # WeightedEnsemble.predict clips a blend to the training target's range
            inits += [numpy_helper.from_array(np.array(v, dtype=np.float32), n)
                      for v, n in zip(span, ("range_lo", "range_hi"))]
            nodes.append(helper.make_node("Clip", [total, "range_lo", "range_hi"], [VALUE]))
        outputs = [helper.make_tensor_value_info(VALUE, TensorProto.FLOAT, [None, 1])]
    else:
        elem, values = label_tensor(classes)
        inits += [numpy_helper.from_array(values, "classes"),
                  numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat")]
        if len(protos) == 1 and threshold is None:  # its own rule: SVC's predict follows its decision function
            own = protos[0].graph.output[0]
            nodes += _own_label_nodes(f"m0_{own.name}", own.type.tensor_type.elem_type, classes)
            # LabelEncoder's keys_*/values_* came in ai.onnx.ml 2; a graph of numbers only imports version 1
            opsets["ai.onnx.ml"] = max(opsets.get("ai.onnx.ml", 0), 2)
        else:
            nodes += _label_nodes(threshold, inits)
        outputs = [helper.make_tensor_value_info(LABEL, elem, [None]),
                   helper.make_tensor_value_info(PROBA, TensorProto.FLOAT, [None, len(classes)])]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits, value_info=infos)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                              producer_name="automl", ir_version=max(p.ir_version for p in protos))
    return model


def _label_nodes(threshold: tuple[int, float] | None, inits: list) -> list:
    """Nodes from the averaged probabilities to the label: the class index, then the class itself."""
    from onnx import helper, numpy_helper

    if threshold is None:  # numpy's argmax and ONNX's both keep the first of equal maxima
        index = [helper.make_node("ArgMax", [PROBA], ["class_index"], axis=1, keepdims=0)]
    else:  # ThresholdClassifier: the positive class when P(positive) >= threshold
        pos, value = threshold
        inits += [numpy_helper.from_array(np.array(pos, dtype=np.int64), "thr_pos"),
                  numpy_helper.from_array(np.array(1 - pos, dtype=np.int64), "thr_neg"),
                  numpy_helper.from_array(np.array(value, dtype=np.float32), "thr_value")]
        index = [helper.make_node("Gather", [PROBA, "thr_pos"], ["thr_p"], axis=1),
                 helper.make_node("GreaterOrEqual", ["thr_p", "thr_value"], ["thr_cond"]),
                 helper.make_node("Where", ["thr_cond", "thr_pos", "thr_neg"], ["class_index"])]
    return [*index, helper.make_node("Gather", ["classes", "class_index"], [LABEL], axis=0)]


def _own_label_nodes(label: str, elem: int, classes: list) -> list:
    """A single pipeline's own label (skl2onnx gives booleans as 0/1) to the class index, then the class."""
    from onnx import TensorProto, helper

    index = list(range(len(classes)))
    keys = {"keys_strings": [str(c) for c in classes]} if elem == TensorProto.STRING else \
        {"keys_int64s": [int(c) for c in classes]}
    return [helper.make_node("Reshape", [label, "flat"], ["own_label"]),
            helper.make_node("LabelEncoder", ["own_label"], ["class_index"], domain="ai.onnx.ml",
                             values_int64s=index, default_int64=0, **keys),
            helper.make_node("Gather", ["classes", "class_index"], [LABEL], axis=0)]


def label_tensor(classes: list) -> tuple[int, np.ndarray]:
    """(ONNX element type, values) holding the classes in their own type: bool, int64, double or string."""
    from onnx import TensorProto

    if all(isinstance(c, (bool, np.bool_)) for c in classes):
        return TensorProto.BOOL, np.array(classes, dtype=bool)
    if all(isinstance(c, Integral) and not isinstance(c, bool) for c in classes):
        return TensorProto.INT64, np.array(classes, dtype=np.int64)
    if all(isinstance(c, Real) and not isinstance(c, bool) for c in classes):
        return TensorProto.DOUBLE, np.array(classes, dtype=np.float64)
    return TensorProto.STRING, np.array([str(c) for c in classes], dtype=object)


def labels_as_model(raw: np.ndarray, classes: list) -> np.ndarray:
    """The label output as the model's ``predict`` returns it (object array for strings, like scikit-learn)."""
    raw = np.asarray(raw).ravel()
    if all(isinstance(c, (bool, Integral, Real)) for c in classes):
        return raw.astype(label_tensor(classes)[1].dtype)
    by_text = {str(c): c for c in classes}
    return np.asarray([by_text.get(str(v), v) for v in raw], dtype=object)
