"""Fitted Pipeline (minus its FrameCoercer) to an ONNX graph with one typed input per column.

skl2onnx converts most of our preprocessing and estimators, but a few of its
converters disagree with scikit-learn on exactly the rows we care about:

* ``SimpleImputer(add_indicator=True)`` - the shape calculator forgets the
  indicator column, and string imputers only accept a string marker;
* ``OrdinalEncoder`` on categories with missing values (sklearn maps NaN to
  NaN, unknown to -1);
* tree ensembles - the forests' ``missing_go_to_left`` is ignored, and
  HistGradientBoosting's flags are written as booleans the ONNX helper rejects;
* ``TransformedTargetRegressor`` (our MLP regressor scales its target) has no
  converter: its regressor is converted and the output scaled back in the graph;
* k-nearest neighbours - ``weights='distance'`` comes out unweighted: our own
  graph (:mod:`automl.deploy._onnx_knn`).

Rather than overwrite skl2onnx's global registry, the copy of the pipeline
being converted has those objects re-classed to private subclasses that carry
our converters. Missing categories reach the graph as the empty string.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

from automl.deploy import _onnx_knn

MISSING_STRING = ""  # how a missing category is fed to the ONNX graph
OPSET = {"": 17, "ai.onnx.ml": 3}
_REGISTERED: dict[type, type] = {}  # sklearn class -> private subclass registered with skl2onnx


def convert_pipeline(pipeline: Pipeline, numeric: list[str], strings: list[str], name: str = "automl"):
    """ONNX ModelProto for ``pipeline``'s steps after ``coerce``; inputs are named after the columns."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    _register()
    rest = _onnx_ready(Pipeline(copy.deepcopy(pipeline.steps[1:])))
    scaled = rest.steps[-1][1]
    if isinstance(scaled, TransformedTargetRegressor):  # converted as its regressor, then scaled back below
        rest.steps[-1] = (rest.steps[-1][0], scaled.regressor_)
    inputs = [(c, FloatTensorType([None, 1])) for c in numeric] + [(c, StringTensorType([None, 1])) for c in strings]
    estimator = rest.steps[-1][1]
    options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "classes_") else None
    proto = convert_sklearn(rest, name=name, initial_types=inputs, options=options, target_opset=OPSET)
    if isinstance(scaled, TransformedTargetRegressor):
        _unscale_output(proto, scaled.transformer_)
    return proto


def _unscale_output(proto, scaler: Any) -> None:
    """``inverse_transform`` of the target scaler on the regression output (MLP regressors scale their target)."""
    from onnx import helper, numpy_helper

    if not isinstance(scaler, StandardScaler):
        raise TypeError(f"a target transformed by {type(scaler).__name__} (only StandardScaler converts)")
    graph, out = proto.graph, proto.graph.output[0].name
    for node in graph.node:
        node.output[:] = [f"{out}_scaled" if o == out else o for o in node.output]
    scale = scaler.scale_ if scaler.scale_ is not None else np.ones(1)
    mean = scaler.mean_ if scaler.mean_ is not None else np.zeros(1)
    graph.initializer.extend([numpy_helper.from_array(np.asarray(scale, dtype=np.float32), "target_scale"),
                              numpy_helper.from_array(np.asarray(mean, dtype=np.float32), "target_mean")])
    graph.node.extend([helper.make_node("Mul", [f"{out}_scaled", "target_scale"], [f"{out}_unscaled"]),
                       helper.make_node("Add", [f"{out}_unscaled", "target_mean"], [out])])


# -- the copy we convert ---------------------------------------------------------------------------------------------
def _onnx_ready(est: Any) -> Any:
    """Re-class (in place, on a copy) the objects whose stock converter disagrees with scikit-learn."""
    if isinstance(est, Pipeline):
        for _, step in est.steps:
            _onnx_ready(step)
    elif isinstance(est, ColumnTransformer):
        for _, trans, _ in est.transformers_:
            _onnx_ready(trans)
    elif isinstance(est, SimpleImputer):
        if est.statistics_.dtype == object:
            est.missing_values = MISSING_STRING  # the stock string imputer wants a string marker
        else:
            est.__class__ = _REGISTERED[SimpleImputer]
    elif type(est) in _REGISTERED:
        est.__class__ = _REGISTERED[type(est)]
    return est


def _register() -> None:
    """Register LightGBM's converters and our private subclasses with skl2onnx (once per process)."""
    if _REGISTERED:
        return
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx import update_registered_converter
    from skl2onnx.common._registration import get_converter, get_shape_calculator
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from sklearn import ensemble

    update_registered_converter(LGBMClassifier, "LightGbmLGBMClassifier", calculate_linear_classifier_output_shapes,
                                convert_lightgbm, options={"nocl": [True, False], "zipmap": [True, False, "columns"]})
    update_registered_converter(LGBMRegressor, "LightGbmLGBMRegressor", calculate_linear_regressor_output_shapes,
                                convert_lightgbm, options={"split": None})
    for base in ("RandomForest", "ExtraTrees", "HistGradientBoosting"):
        for kind in ("Classifier", "Regressor"):
            cls = getattr(ensemble, base + kind)
            stock = f"Sklearn{base}{kind}"
            sub = type(f"_Onnx{base}{kind}", (cls,), {"__module__": __name__})
            update_registered_converter(sub, f"AutoML{base}{kind}", get_shape_calculator(stock),
                                        _tree_converter(get_converter(stock)),
                                        options=get_converter(stock).get_allowed_options())
            _REGISTERED[cls] = sub
    imputer = type("_OnnxNumericImputer", (SimpleImputer,), {"__module__": __name__})
    update_registered_converter(imputer, "AutoMLNumericImputer", _imputer_shape, _convert_imputer)
    _REGISTERED[SimpleImputer] = imputer
    _REGISTERED.update(_onnx_knn.register(update_registered_converter, get_shape_calculator))
    ordinal = type("_OnnxOrdinalEncoder", (OrdinalEncoder,), {"__module__": __name__})
    update_registered_converter(ordinal, "AutoMLOrdinalEncoder", _ordinal_shape, _convert_ordinal)
    _REGISTERED[OrdinalEncoder] = ordinal


# -- trees -----------------------------------------------------------------------------------------------------------
class _TreeContainer:
    """Passes everything to skl2onnx's container, fixing the tree nodes' missing-value flags on the way."""

    def __init__(self, container: Any, model: Any) -> None:
        self._container, self._model = container, model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, op_type, inputs, outputs, op_domain="", op_version=None, name=None, **attrs):
        flags = attrs.get("nodes_missing_value_tracks_true")
        if flags is not None:
            if hasattr(self._model, "estimators_"):  # forests: skl2onnx leaves every flag at 0
                flags = _forest_flags(self._model, attrs["nodes_treeids"], attrs["nodes_nodeids"],
                                      attrs["nodes_modes"])
            attrs["nodes_missing_value_tracks_true"] = [int(f) for f in flags]
        return self._container.add_node(op_type, inputs, outputs, op_domain=op_domain, op_version=op_version,
                                        name=name, **attrs)


def _forest_flags(model: Any, tree_ids, node_ids, modes) -> list[int]:
    """scikit-learn sends NaN left where ``missing_go_to_left``; the true branch is the left child."""
    trees = [est.tree_ for est in model.estimators_]
    out = []
    for t, n, mode in zip(tree_ids, node_ids, modes):
        left = getattr(trees[int(t)], "missing_go_to_left", None)
        out.append(int(mode != "LEAF" and left is not None and bool(left[int(n)])))
    return out


def _tree_converter(stock):
    def convert(scope, operator, container):
        return stock(scope, operator, _TreeContainer(container, operator.raw_operator))
    return convert


# -- numeric imputer (with its missing indicator) --------------------------------------------------------------------
def _imputer_shape(operator) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    op = operator.raw_operator
    width = sum(v.get_second_dimension() for v in operator.inputs)
    extra = len(op.indicator_.features_) if op.add_indicator and op.indicator_ is not None else 0
    operator.outputs[0].type = FloatTensorType([operator.inputs[0].get_first_dimension(), width + extra])


def _convert_imputer(scope, operator, container) -> None:
    from onnx import TensorProto
    op = operator.raw_operator
    x = _concat_inputs(scope, operator, container)
    imputed = scope.get_unique_variable_name("imputed")
    container.add_node("Imputer", [x], [imputed], op_domain="ai.onnx.ml",
                       imputed_value_floats=np.asarray(op.statistics_, dtype=np.float32),
                       replaced_value_float=np.nan, name=scope.get_unique_operator_name("Imputer"))
    features = list(op.indicator_.features_) if op.add_indicator and op.indicator_ is not None else []
    if not features:
        container.add_node("Identity", [imputed], [operator.outputs[0].full_name])
        return
    isnan, picked, flags = (scope.get_unique_variable_name(n) for n in ("isnan", "picked", "flags"))
    index = scope.get_unique_variable_name("index")
    container.add_initializer(index, TensorProto.INT64, [len(features)], [int(f) for f in features])
    container.add_node("IsNaN", [x], [isnan])
    container.add_node("Gather", [isnan, index], [picked], axis=1)
    container.add_node("Cast", [picked], [flags], to=TensorProto.FLOAT)
    container.add_node("Concat", [imputed, flags], [operator.outputs[0].full_name], axis=1)


# -- ordinal encoder on strings --------------------------------------------------------------------------------------
def _ordinal_shape(operator) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    width = sum(v.get_second_dimension() for v in operator.inputs)
    operator.outputs[0].type = FloatTensorType([operator.inputs[0].get_first_dimension(), width])


def _convert_ordinal(scope, operator, container) -> None:
    """One LabelEncoder per column: known category -> its code, missing -> NaN (if seen), else unknown_value."""
    from onnx import TensorProto
    op = operator.raw_operator
    x = _concat_inputs(scope, operator, container)
    unknown = float(op.unknown_value) if op.handle_unknown == "use_encoded_value" else np.nan
    columns = []
    for j, cats in enumerate(op.categories_):
        keys = [str(c) for c in cats if not _is_nan(c)]
        values = [float(i) for i, c in enumerate(cats) if not _is_nan(c)]
        if len(keys) < len(cats):  # NaN was seen in training: sklearn encodes it as encoded_missing_value
            keys.append(MISSING_STRING)
            values.append(float(op.encoded_missing_value))
        index, column, coded = (scope.get_unique_variable_name(n) for n in ("index", "column", "coded"))
        container.add_initializer(index, TensorProto.INT64, [1], [j])
        container.add_node("Gather", [x, index], [column], axis=1)
        container.add_node("LabelEncoder", [column], [coded], op_domain="ai.onnx.ml", op_version=2,
                           keys_strings=keys, values_floats=np.asarray(values, dtype=np.float32),
                           default_float=unknown, name=scope.get_unique_operator_name("LabelEncoder"))
        columns.append(coded)
    container.add_node("Concat", columns, [operator.outputs[0].full_name], axis=1)


def _concat_inputs(scope, operator, container) -> str:
    """The operator's inputs side by side (all of one type: skl2onnx's FeatureVectorizer rejects strings)."""
    names = [v.full_name for v in operator.inputs]
    if len(names) == 1:
        return names[0]
    out = scope.get_unique_variable_name("concat")
    container.add_node("Concat", names, [out], axis=1)
    return out


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)
