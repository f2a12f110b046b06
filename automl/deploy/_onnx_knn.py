"""k-nearest neighbours as our own ONNX graph, faithful to scikit-learn for uniform and distance weights.

skl2onnx's converter (1.20) negates the distances its TopK returns before weighting them, then clips
them at 1e-6, so every neighbour weighs 1e6: a ``weights='distance'`` model comes out as a plain
majority vote (0.67 off in probability on a test table, a regressor 4.6 off), and a row equal to a
training row isn't given to that row alone as scikit-learn does.

The graph here follows ``KNeighbors*.predict``/``predict_proba`` step by step:

* the (float32) features are cast to float64 and compared with scikit-learn's own float64 training
  matrix, :data:`CHUNK` query rows at a time (a Scan: memory stays at CHUNK x training rows, whatever
  the number of rows asked for);
* the k nearest are found by TopK on |t|^2 - 2 x.t (equal distances: the lower training index
  first), then their distances measured as sums of squared differences, so a row equal to a training
  row is at 0, as in scikit-learn's trees;
* weights are 1/d, or where some neighbours are at distance zero (up to :data:`ZERO_DISTANCE`),
  1 for those and 0 for the others, scikit-learn's rule; uniform: all 1;
* the classes' weighted votes over their sum are the probabilities, their argmax (the first of equal
  maxima, like ``weighted_mode``) the label; a regressor gives the weighted mean of the targets.

What can't be followed: which of several neighbours at exactly the same distance take the last of
the k places. scikit-learn leaves that to the order its heap (brute force) or tree visits the
training rows; on tables of categories only (car-evaluation: half the held-out rows) the votes then
differ, so the registry declares those tables non-convertible (``onnx_table``). With a number among
the columns such ties are rare (california-housing: 1 row in 1,200, two distances 1e-7 apart), and
the parity check of :func:`automl.deploy.export_onnx` refuses a file where they are not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

# Neighbours nearer than this count as at distance zero. A row equal to a training row is at exactly 0 for
# scikit-learn, but float32 inputs and preprocessing put it up to 4.4e-5 away here (wine-quality's density: a
# narrow range far from 0; 7e-6 on california-housing, 1e-6 on most tables). Genuine neighbours this close are rare
# (phoneme: 0.04% of rows) and there float32 can't give 1/d to 1e-5 anyway.
ZERO_DISTANCE = 1e-4
CHUNK = 32  # query rows per matrix product: (CHUNK, training rows) float64, 12.8 MB at 50,000 training rows
ESTIMATORS = (KNeighborsClassifier, KNeighborsRegressor)


def register(update_registered_converter, get_shape_calculator) -> dict[type, type]:
    """Private subclasses of the kNN estimators, registered with our converter: {sklearn class: subclass}."""
    registered = {}
    for cls in ESTIMATORS:
        sub = type(f"_Onnx{cls.__name__}", (cls,), {"__module__": __name__})
        options = {"zipmap": [False], "nocl": [False]} if cls is KNeighborsClassifier else None  # as we convert
        update_registered_converter(sub, f"AutoML{cls.__name__}", get_shape_calculator(f"Sklearn{cls.__name__}"),
                                    convert_knn, options=options)
        registered[cls] = sub
    return registered


def convert_knn(scope, operator, container) -> None:
    """skl2onnx converter: the model's predictions from its input features (see the module docstring)."""
    from onnx import TensorProto

    op = operator.raw_operator
    if op.weights not in ("uniform", "distance"):
        raise NotImplementedError(f"kNN weights={op.weights!r} (only 'uniform' and 'distance' convert)")
    if getattr(op, "outputs_2d_", False) or np.ndim(op._y) != 1:
        raise NotImplementedError("kNN with several targets")
    name = scope.get_unique_variable_name
    features = name("knn_x")
    container.add_node("Cast", [operator.inputs[0].full_name], [features], to=TensorProto.DOUBLE)
    reduced, index = _nearest(scope, container, op, features)
    weights = _weights(scope, container, op, reduced)
    if isinstance(op, KNeighborsClassifier):
        _vote(scope, container, op, index, weights, operator.outputs)
    else:
        _mean(scope, container, op, index, weights, operator.outputs[0].full_name)


def _nearest(scope, container, op: Any, features: str) -> tuple[str, str]:
    """(squared distances, training indices) of the k nearest training rows, each (N, k).

    The rows go through a Scan :data:`CHUNK` at a time (padded with rows of zeros to a whole number of
    chunks, at least one: onnxruntime's Scan fails on none), their padding dropped after.
    """
    from onnx import TensorProto

    metric = op.effective_metric_
    if metric != "euclidean" or (op.effective_metric_params_ or {}).get("w") is not None:
        raise NotImplementedError(f"kNN metric {metric!r} (only the euclidean distance converts, the search's own)")
    name = scope.get_unique_variable_name
    width, k = op._fit_X.shape[1], op.n_neighbors
    consts = {"chunk": [CHUNK], "width": [width], "zero": [0], "one": [1], "chunked": [-1, CHUNK, width],
              "flat": [-1, k]}
    c = {key: name(f"knn_{key}") for key in consts}
    for key, value in consts.items():
        container.add_initializer(c[key], TensorProto.INT64, [len(value)], value)
    n, pad, shape, zeros, padded, chunks = (name(f"knn_{v}") for v in ("n", "pad", "shape", "zeros", "padded",
                                                                        "chunks"))
    container.add_node("Shape", [features], [f"{n}_all"])
    container.add_node("Slice", [f"{n}_all", c["zero"], c["one"]], [n])
    container.add_node("Mod", [n, c["chunk"]], [f"{pad}_rest"])
    container.add_node("Sub", [c["chunk"], f"{pad}_rest"], [pad])  # 1..CHUNK rows of zeros
    container.add_node("Concat", [pad, c["width"]], [shape], axis=0)
    container.add_node("ConstantOfShape", [shape], [zeros], value=_double_tensor(0.0))
    container.add_node("Concat", [features, zeros], [padded], axis=0)
    container.add_node("Reshape", [padded, c["chunked"]], [chunks])
    outputs = [name("knn_reduced_chunks"), name("knn_index_chunks")]
    container.add_node("Scan", [chunks], outputs, num_scan_inputs=1, body=_body(name, op),
                       name=scope.get_unique_operator_name("KnnScan"), op_version=16)
    reduced, index = name("knn_reduced"), name("knn_index")
    for chunked, out in zip(outputs, (reduced, index)):
        container.add_node("Reshape", [chunked, c["flat"]], [f"{out}_padded"])
        container.add_node("Slice", [f"{out}_padded", c["zero"], n], [out])
    return reduced, index


def _body(name, op: Any):
    """The Scan body: CHUNK query rows (CHUNK, d) in, their k nearest training rows' squared distances and indices
    out (CHUNK, k) each.

    Ranked by |t|^2 - 2 x.t (one matrix product per chunk: onnxruntime's float64 MatMul is slow row by row,
    and differences to every training row cost 10 ms a row at 50,000 x 60, 30 times this), then the k found
    are measured again as sums of squared differences, as scikit-learn's trees do.
    The body holds its constants itself: names it read from the outer graph would not survive the prefixing of
    ensemble members (onnx.compose renames outer initializers after it has walked the subgraphs).
    """
    from onnx import TensorProto, helper, numpy_helper

    train = np.asarray(op._fit_X, dtype=np.float64)
    body: list = []

    def constant(label: str, value: Any) -> str:
        out = name(label)
        body.append(helper.make_node("Constant", [], [out], value=numpy_helper.from_array(np.asarray(value), out)))
        return out

    def node(op_type: str, inputs: list[str], label: str, **attrs) -> str:
        out = name(label)
        body.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    rows, top, idx = name("knn_rows"), name("knn_top"), name("knn_idx")
    # The training matrix is held once, transposed and times -2 (exact: a power of two), for the product.
    fit = constant("knn_fit_t_m2", np.ascontiguousarray(-2.0 * train.T))
    dot = node("MatMul", [rows, fit], "knn_dot")
    rank = node("Add", [dot, constant("knn_norms", (train ** 2).sum(axis=1)[None, :])], "knn_rank")
    body.append(helper.make_node("TopK", [rank, constant("knn_k", [op.n_neighbors])], [name("knn_ranked"), idx],
                                 axis=1, largest=0, sorted=1))
    picked = node("Gather", [fit, idx], "knn_picked", axis=1)  # (d, CHUNK, k), times -2
    near = node("Transpose", [node("Mul", [picked, constant("knn_half", -0.5)], "knn_unscaled")], "knn_near",
                perm=[1, 2, 0])  # (CHUNK, k, d)
    diff = node("Sub", [near, node("Unsqueeze", [rows, constant("knn_axis1", [1])], "knn_rows3")], "knn_diff")
    body.append(helper.make_node("ReduceSum", [node("Mul", [diff, diff], "knn_sq"), constant("knn_axis2", [2])],
                                 [top], keepdims=0))
    return helper.make_graph(
        body, name("knn_body"), [helper.make_tensor_value_info(rows, TensorProto.DOUBLE, [CHUNK, train.shape[1]])],
        [helper.make_tensor_value_info(top, TensorProto.DOUBLE, [CHUNK, op.n_neighbors]),
         helper.make_tensor_value_info(idx, TensorProto.INT64, [CHUNK, op.n_neighbors])])


def _double_tensor(value: float):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array([value], dtype=np.float64))


def _weights(scope, container, op: Any, squared: str) -> str:
    """Each neighbour's weight (N, k): 1 (uniform); 1/d, or scikit-learn's rule when some d is zero."""
    from onnx import TensorProto

    name = scope.get_unique_variable_name
    weights = name("knn_weights")
    if op.weights == "uniform":
        shape = name("knn_shape")
        container.add_node("Shape", [squared], [shape])
        container.add_node("ConstantOfShape", [shape], [weights], value=_double_tensor(1.0))
        return weights
    zero, one = name("knn_zero"), name("knn_one")
    container.add_initializer(zero, TensorProto.DOUBLE, [], [ZERO_DISTANCE ** 2])
    container.add_initializer(one, TensorProto.DOUBLE, [], [1.0])
    dist, at_zero, hits, any_hit, inv = (name(n) for n in ("knn_dist", "knn_at_zero", "knn_hits", "knn_any_hit",
                                                           "knn_inv"))
    container.add_node("Sqrt", [squared], [dist])
    container.add_node("LessOrEqual", [squared, zero], [at_zero])
    container.add_node("Cast", [at_zero], [hits], to=TensorProto.DOUBLE)
    container.add_node("ReduceMax", [hits], [f"{any_hit}_value"], axes=[1], keepdims=1)  # axes an input from 18
    container.add_node("Cast", [f"{any_hit}_value"], [any_hit], to=TensorProto.BOOL)
    container.add_node("Div", [one, dist], [inv])  # inf at zero: only where the hits are taken instead
    container.add_node("Where", [any_hit, hits, inv], [weights])
    return weights


def _vote(scope, container, op: Any, index: str, weights: str, outputs: list) -> None:
    """Probabilities (weighted votes over their sum) and the label (their argmax) of a classifier."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType

    name = scope.get_unique_variable_name
    n_classes = len(op.classes_)
    codes, classes, axis, last = (name(n) for n in ("knn_codes", "knn_classes", "knn_axis", "knn_last"))
    container.add_initializer(codes, TensorProto.INT64, [len(op._y)], np.asarray(op._y, dtype=np.int64).tolist())
    container.add_initializer(classes, TensorProto.INT64, [1, 1, n_classes], list(range(n_classes)))
    container.add_initializer(axis, TensorProto.INT64, [1], [1])
    container.add_initializer(last, TensorProto.INT64, [1], [-1])
    got, onehot, mask, spread, weighted, votes, total, proba, best = (name(n) for n in (
        "knn_got", "knn_onehot", "knn_mask", "knn_spread", "knn_weighted", "knn_votes", "knn_total", "knn_proba",
        "knn_best"))
    container.add_node("Gather", [codes, index], [got], axis=0)  # (N, k) class index of each neighbour
    container.add_node("Unsqueeze", [got, last], [f"{got}_3d"])
    container.add_node("Equal", [f"{got}_3d", classes], [onehot])  # (N, k, C)
    container.add_node("Cast", [onehot], [mask], to=TensorProto.DOUBLE)
    container.add_node("Unsqueeze", [weights, last], [spread])
    container.add_node("Mul", [mask, spread], [weighted])
    container.add_node("ReduceSum", [weighted, axis], [votes], keepdims=0)  # (N, C)
    container.add_node("ReduceSum", [votes, last], [total], keepdims=1)
    container.add_node("Div", [votes, total], [proba])
    container.add_node("Cast", [proba], [outputs[1].full_name], to=TensorProto.FLOAT)
    container.add_node("ArgMax", [votes], [best], axis=1, keepdims=0)  # the first of equal maxima, as sklearn
    labels = name("knn_labels")
    if isinstance(outputs[0].type, StringTensorType):  # as the shape calculator typed the label
        container.add_initializer(labels, TensorProto.STRING, [n_classes], [str(c) for c in op.classes_])
    else:  # skl2onnx's own label type for numbers and booleans: int64
        container.add_initializer(labels, TensorProto.INT64, [n_classes], [int(c) for c in op.classes_])
    container.add_node("Gather", [labels, best], [outputs[0].full_name], axis=0)


def _mean(scope, container, op: Any, index: str, weights: str, output: str) -> None:
    """A regressor's weighted mean of its neighbours' targets, (N, 1)."""
    from onnx import TensorProto

    name = scope.get_unique_variable_name
    targets, axis, got, weighted, total, norm, mean = (name(n) for n in (
        "knn_targets", "knn_axis", "knn_got", "knn_weighted", "knn_total", "knn_norm", "knn_mean"))
    container.add_initializer(targets, TensorProto.DOUBLE, [len(op._y)], np.asarray(op._y, dtype=np.float64).tolist())
    container.add_initializer(axis, TensorProto.INT64, [1], [1])
    container.add_node("Gather", [targets, index], [got], axis=0)
    container.add_node("Mul", [got, weights], [weighted])
    container.add_node("ReduceSum", [weighted, axis], [total], keepdims=1)
    container.add_node("ReduceSum", [weights, axis], [norm], keepdims=1)
    container.add_node("Div", [total, norm], [mean])
    container.add_node("Cast", [mean], [output], to=TensorProto.FLOAT)
