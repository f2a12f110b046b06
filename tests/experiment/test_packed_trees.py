"""HistGradientBoosting models are written as a few arrays and read back as the same trees.

The write used to hold one object and three arrays per tree (10 s for a 5,256-tree ensemble, its cost growing
with the square of the trees); the figures are in bench/results/wall_time.md. Here: the same predictions after
the round trip on every task, a file whose size in entries doesn't grow with the trees, a warm start that
still continues, and an edited file refused with a message instead of a wrong model or a crash.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

from automl.errors import AutoMLError
from automl.experiment import load_model_file
from automl.experiment._model_file import dump_model
from automl.experiment._packed_trees import PackedTrees


def _table(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Numbers, one with missing values, and a category code 0-4: the matrix our tree pipelines give HGB."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "colour": rng.integers(0, 5, n)})
    X.loc[rng.random(n) < 0.1, "a"] = np.nan  # missing values take their own branch
    signal = X["a"].fillna(0) + (X["colour"] == 3) - X["b"] ** 2
    return X.to_numpy(dtype=float), signal.to_numpy()


CASES = {
    "binary": lambda: HistGradientBoostingClassifier(max_iter=40, random_state=0),
    "multiclass": lambda: HistGradientBoostingClassifier(max_iter=40, random_state=0),
    "regression": lambda: HistGradientBoostingRegressor(max_iter=40, random_state=0),
}


def _target(task: str, signal: np.ndarray) -> np.ndarray:
    if task == "binary":
        return (signal > np.median(signal)).astype(int)
    if task == "multiclass":
        return np.digitize(signal, np.quantile(signal, [0.33, 0.66]))
    return signal


def _outputs(model, X) -> np.ndarray:
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


@pytest.mark.parametrize("task", list(CASES))
def test_a_round_trip_predicts_the_same_on_every_task(task, tmp_path):
    X, signal = _table()
    model = CASES[task]().fit(X, _target(task, signal))
    before = _outputs(model, X)
    trees = [[t.nodes.copy() for t in per] for per in model._predictors]
    dump_model(model, tmp_path / "model.skops")
    loaded = load_model_file(tmp_path / "model.skops")
    assert isinstance(loaded._predictors, PackedTrees) and loaded.n_iter_ == model.n_iter_
    assert all(isinstance(t, TreePredictor) for per in loaded._predictors for t in per)
    assert [[t.nodes.tolist() for t in per] for per in loaded._predictors] == [[n.tolist() for n in per]
                                                                                 for per in trees]
    np.testing.assert_array_equal(_outputs(loaded, X), before)
    np.testing.assert_array_equal(_outputs(model, X), before)  # the model written is unchanged for its caller


def test_the_file_does_not_grow_an_entry_per_tree(tmp_path):
    X, signal = _table()
    model = HistGradientBoostingClassifier(max_iter=300, early_stopping=False, random_state=0)
    model.fit(X, _target("multiclass", signal))
    assert sum(len(per) for per in model._predictors) == 900
    dump_model(model, tmp_path / "model.skops")
    with zipfile.ZipFile(tmp_path / "model.skops") as archive:
        names = archive.namelist()
        schema = archive.read("schema.json").decode()
    assert len(names) < 30, len(names)  # before: three arrays per tree, 2,700 entries
    assert "TreePredictor" not in schema


def test_a_packed_model_still_warm_starts(tmp_path):
    X, signal = _table()
    y = _target("binary", signal)
    model = HistGradientBoostingClassifier(max_iter=20, early_stopping=False, random_state=0).fit(X, y)
    dump_model(model, tmp_path / "model.skops")  # packs its trees in place
    model.set_params(warm_start=True, max_iter=30).fit(X, y)
    whole = HistGradientBoostingClassifier(max_iter=30, early_stopping=False, random_state=0).fit(X, y)
    assert model.n_iter_ == 30
    np.testing.assert_allclose(model.predict_proba(X), whole.predict_proba(X))


def _edit_counts(path: Path, key: str, change) -> None:
    """Rewrite one of the packed arrays inside the skops archive, as someone editing the file would."""
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    packed = json.loads(entries["schema.json"])["content"]["content"]["_predictors"]["content"]["content"]
    name = packed[key]["file"]
    array = np.load(io.BytesIO(entries[name]), allow_pickle=False)
    buffer = io.BytesIO()
    np.save(buffer, change(array), allow_pickle=False)
    entries[name] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in entries.items():
            archive.writestr(n, data)


@pytest.mark.parametrize("key, change, expected", [
    ("node_counts", lambda a: a + 1, "node counts don't add up"),
    ("node_counts", lambda a: np.r_[a[:-2], a[-2] + a[-1] + 5, -5], "node counts don't add up"),
    ("raw_counts", lambda a: a[:-1], "category set counts don't add up|disagree on the number of trees"),
    ("nodes", lambda a: a.astype([(n, "<f8") for n in a.dtype.names]), "not scikit-learn's node records"),
])
def test_edited_packed_arrays_are_refused_with_a_message(key, change, expected, tmp_path):
    X, signal = _table()
    path = tmp_path / "model.skops"
    dump_model(HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, _target("binary", signal)), path)
    _edit_counts(path, key, change)
    with pytest.raises(AutoMLError, match=expected):
        load_model_file(path)


def test_an_edited_node_inside_packed_trees_is_still_caught_by_the_index_check(tmp_path):
    X, signal = _table()
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, _target("binary", signal))
    path = tmp_path / "model.skops"
    dump_model(model, path)

    def point_outside(nodes: np.ndarray) -> np.ndarray:
        nodes = nodes.copy()
        inner = np.flatnonzero(nodes["is_leaf"] == 0)[0]
        nodes["right"][inner] = 10**6
        return nodes
    _edit_counts(path, "nodes", point_outside)
    with pytest.raises(AutoMLError, match="child node index is out of range"):
        load_model_file(path)
