"""kNN's own ONNX graph (automl/deploy/_onnx_knn.py) against scikit-learn: distance and uniform weights, rows equal
to training rows (distance 0, duplicates with different labels), rows far from all data, missing values, two and
more classes of every label type, regression, no rows at all; the tables it refuses and why."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from knn_ties import last_place_tied
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

import automl
from automl.algorithms import ALGORITHMS
from automl.data import prepare_dataset
from automl.deploy import OnnxModel, onnx_support, pipeline_to_onnx
from automl.deploy._onnx_export import PROBA_TOL, parity
from automl.deploy._onnx_knn import CHUNK

KNN = ALGORITHMS["knn"]
ROWS, TRAIN = 240, 180
LABELS = {"bool": lambda s, q: s > q[1], "string2": lambda s, q: np.where(s > q[1], "yes", "no"),
          "int3": lambda s, q: np.digitize(s, q[[0, 2]]), "string4": lambda s, q: np.array(list("abcd"))[
              np.digitize(s, [q[0], q[1], q[2]])]}
TASK = {"bool": "binary", "string2": "binary", "int3": "multiclass", "string4": "multiclass"}


def _table(target: str, copies: bool = False, seed: int = 0) -> pd.DataFrame:
    """Two numbers (one with gaps), a category (with gaps), a boolean, and the target asked for; with ``copies``
    the last 20 training rows repeat the first 20's features with targets of their own."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=ROWS), rng.uniform(0, 10, size=ROWS)
    colour, flag = rng.choice(["red", "green", "blue"], size=ROWS), rng.choice([True, False], size=ROWS)
    score = x1 + (colour == "red") - 0.2 * x2 + 0.5 * flag + rng.normal(scale=0.5, size=ROWS)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "flag": flag})
    frame.loc[rng.random(ROWS) < 0.1, "x1"] = np.nan
    frame.loc[rng.random(ROWS) < 0.1, "colour"] = None
    if copies:
        frame.iloc[TRAIN - 20:TRAIN, :4] = frame.iloc[:20, :4].to_numpy()
    quantiles = np.quantile(score, [0.25, 0.5, 0.75])
    frame["y"] = np.exp(score / 2) * 10 if target == "regression" else LABELS[target](score, quantiles)
    return frame


def _fitted(target: str, copies: bool = False, **params):
    task = TASK.get(target, "regression")
    ds = prepare_dataset(_table(target, copies), "y", task=task)
    est = KNN.make({"n_neighbors": 15, "weights": "distance", **params}, task, seed=0, n_rows=TRAIN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = KNN.preprocessing.pipeline(ds.schema, est, task).fit(ds.X.iloc[:TRAIN], ds.y.iloc[:TRAIN])
    return model, ds


def _onnx(model, ds, tmp_path) -> OnnxModel:
    path = tmp_path / "knn.onnx"
    path.write_bytes(pipeline_to_onnx(model, ds.schema, ds.task).SerializeToString())
    return OnnxModel(path)


def _assert_parity(model, onnx_model: OnnxModel, X: pd.DataFrame, tol: float = PROBA_TOL) -> None:
    """Every row within tolerance with labels of the model's own values and types, but for rows where scikit-learn
    itself chose between equally distant neighbours for the last place (its search order decides: see
    _onnx_knn's docstring); those must stay few."""
    tied = last_place_tied(model, X)
    assert tied.mean() <= 0.05, tied.mean()
    X = X[~tied]
    result = parity(model, onnx_model.session, onnx_model.info, X)
    assert result["rows_within"] == 1.0 and result["max_diff"] <= result.get("tolerance", tol), result
    if onnx_model.task != "regression":
        got, want = onnx_model.predict(X).tolist(), np.asarray(model.predict(X)).tolist()
        assert [(v, type(v)) for v in got] == [(v, type(v)) for v in want]


def _far(X: pd.DataFrame) -> pd.DataFrame:
    """Rows far from all training data: huge numbers (clipped to the training range by the pipeline), a colour
    never seen, and both at once."""
    far = X.head(3).copy()
    far["x1"], far["x2"] = [1e6, -1e6, 1e9], [1e6, 5.0, -1e9]
    far["colour"] = ["purple", "red", "purple"]
    return far


@pytest.mark.parametrize("weights", ["distance", "uniform"])
@pytest.mark.parametrize("n_neighbors", [3, 15, 100])  # the search draws 3 up to a tenth of the rows, at most 100
@pytest.mark.parametrize("target", [*LABELS, "regression"])
def test_the_graph_agrees_with_scikit_learn(target, n_neighbors, weights, tmp_path):
    model, ds = _fitted(target, n_neighbors=n_neighbors, weights=weights)
    onnx_model = _onnx(model, ds, tmp_path)
    X_test = ds.X.iloc[TRAIN:]
    for rows in (X_test, X_test.astype(object).mask(np.random.default_rng(1).random(X_test.shape) < 0.3),
                 _far(X_test), ds.X.iloc[:TRAIN]):  # held out, with gaps, far away, the training rows themselves
        _assert_parity(model, onnx_model, rows)


@pytest.mark.parametrize("target", ["string4", "regression"])
def test_a_row_equal_to_training_rows_goes_to_them_alone(target, tmp_path):
    """scikit-learn gives a row at distance 0 from training rows to those rows alone, each weighing 1: a row whose
    copies disagree gets their share (a tie broken to the first class, as ``predict`` does)."""
    model, ds = _fitted(target, copies=True)
    onnx_model = _onnx(model, ds, tmp_path)
    X, y = ds.X.iloc[:TRAIN], ds.y.iloc[:TRAIN].to_numpy()
    est = model.steps[-1][1]
    dist, _ = est.kneighbors(model[:-1].transform(X))
    assert (dist[:, 0] == 0).all()  # every training row is its own nearest neighbour, at exactly 0
    _assert_parity(model, onnx_model, X, tol=1e-6)
    copies = X.iloc[:20]  # rows 0..19 were repeated as rows 160..179 with targets of their own
    if target == "regression":
        np.testing.assert_allclose(onnx_model.predict(copies), (y[:20] + y[TRAIN - 20:]) / 2, rtol=1e-6)
        return
    proba, disagree = onnx_model.predict_proba(copies), y[:20] != y[TRAIN - 20:]
    assert disagree.any() and np.allclose(np.sort(proba[disagree], axis=1)[:, -2:], 0.5)
    assert (proba[~disagree].max(axis=1) == 1.0).all()
    assert onnx_model.predict(copies).tolist() == model.predict(copies).tolist()


@pytest.mark.parametrize("n", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1])
def test_any_number_of_rows_even_none(n, tmp_path):
    """The Scan goes over chunks of rows, padded to a whole number of them: every count in and around a chunk."""
    model, ds = _fitted("int3")
    onnx_model = _onnx(model, ds, tmp_path)
    X = pd.concat([ds.X.iloc[TRAIN:]] * 2).head(n)
    assert onnx_model.predict_proba(X).shape == (n, 3) and onnx_model.predict(X).shape == (n,)
    if n:
        _assert_parity(model, onnx_model, X)


def test_stock_skl2onnx_still_weighs_every_neighbour_alike():
    """Why we build the graph: skl2onnx negates TopK's distances, so weights='distance' votes are unweighted. When
    this fails, skl2onnx's converter may do: compare it with ours before dropping ours."""
    import onnxruntime as rt
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    Q = rng.normal(size=(100, 4))
    for est, out in ((KNeighborsClassifier(15, weights="distance").fit(X, y), 1),
                     (KNeighborsRegressor(15, weights="distance").fit(X, X[:, 0]), 0)):
        options = {id(est): {"zipmap": False}} if out else None
        proto = convert_sklearn(est, initial_types=[("X", FloatTensorType([None, 4]))], options=options,
                                target_opset={"": 17, "ai.onnx.ml": 3})
        got = rt.InferenceSession(proto.SerializeToString()).run(None, {"X": Q.astype(np.float32)})[out]
        want = est.predict_proba(Q) if out else est.predict(Q)
        unweighted = est.set_params(weights="uniform")
        assert np.abs(np.ravel(got) - np.ravel(want)).max() > 0.05
        np.testing.assert_allclose(np.ravel(got), np.ravel(unweighted.predict_proba(Q) if out else
                                                           unweighted.predict(Q)), atol=1e-5)


def test_other_metrics_are_refused_not_converted_wrong():
    model, ds = _fitted("bool", p=1)
    with pytest.raises(NotImplementedError, match="euclidean"):
        pipeline_to_onnx(model, ds.schema, ds.task)


def _categories_only(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.choice(list("abc"), size=300) for c in ("u", "v", "w")})
    frame["y"] = np.where((frame["u"] == "a") | (frame["v"] == "b"), "yes", "no")
    return frame


def test_a_table_of_categories_only_is_declared_non_convertible(tmp_path):
    """There scikit-learn's search order decides between equally distant neighbours: given the table's schema,
    ``suits(onnx_only=True)`` leaves kNN out, and an experiment's kNN model is refused with the reason before
    converting."""
    cats, mixed = prepare_dataset(_categories_only(), "y").schema, prepare_dataset(_table("bool"), "y").schema
    assert KNN.converts("binary", mixed) and KNN.converts("binary")
    assert not KNN.converts("binary", cats)
    ok, why = KNN.suits("binary", 300, onnx_only=True, schema=cats)
    assert not ok and "categories only" in why and KNN.suits("binary", 300, onnx_only=True, schema=mixed)[0]
    exp = automl.fit(_categories_only(), "y", trials=1, seed=0, ensemble=False, algorithms=["knn"],
                     workspace=tmp_path / "ws")
    ok, why = onnx_support(exp)
    assert not ok and "categories only" in why
