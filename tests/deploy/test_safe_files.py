"""No file runs someone else's code, and no edited safe file crashes the process.

A pickle whose loading writes a marker file stands in for an attack: the marker must not appear unless the
user passed ``--trust``. Edited skops files (a tree index out of range) are loaded and predicted in a child
process, so a crash shows as a signal instead of taking the test run down.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from heldout_helpers import make_experiment
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier

from automl.deploy import _export as export
from automl.deploy._serve import create_app
from automl.errors import AutoMLError
from automl.experiment import LEGACY_MODEL, MODEL, Experiment, load_model_file

ROOT = Path(__file__).resolve().parents[2]
CREDIT = ROOT / "tests" / "fixtures" / "credit-g.csv"


class Payload:
    """Unpickling this writes ``marker``: what any code in a hostile pickle could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return Path.write_text, (Path(self.marker), "someone else's code ran")


class Stranger(BaseEstimator, TransformerMixin):
    """A class from outside the trusted list."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "automl", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("safe-ws")


@pytest.fixture(scope="module")
def hgb(ws) -> Experiment:
    return make_experiment(ws, CREDIT, "class", HistGradientBoostingClassifier(max_iter=20, random_state=0),
                           style="tree")[0]


@pytest.fixture(scope="module")
def forest(ws) -> Experiment:
    return make_experiment(ws, CREDIT, "class", RandomForestClassifier(n_estimators=5, random_state=0),
                           style="tree")[0]


@pytest.fixture(scope="module")
def knn(ws) -> Experiment:
    return make_experiment(ws, CREDIT, "class", KNeighborsClassifier(algorithm="kd_tree"))[0]


@pytest.fixture()
def rows(hgb, tmp_path) -> Path:
    path = tmp_path / "rows.csv"
    hgb.holdout()[hgb.schema.features].head(20).to_csv(path, index=False)
    return path


@pytest.fixture()
def evil(tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "marker.txt"
    path = tmp_path / "evil.joblib"
    joblib.dump(Payload(marker), path)
    return path, marker


def test_the_experiment_model_is_a_skops_file(hgb):
    assert MODEL.endswith(".skops") and hgb.model_path.name == MODEL
    assert sio.get_untrusted_types(file=str(hgb.model_path))  # a skops archive (joblib would not parse)


def test_a_joblib_by_path_runs_nothing_without_trust(evil, rows, tmp_path):
    path, marker = evil
    proc = _cli("predict", str(path), str(rows), "-o", str(tmp_path / "out.csv"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert not marker.exists()
    assert ".skops" in proc.stderr and "--trust" in proc.stderr and "Traceback" not in proc.stderr


def test_a_joblib_by_path_loads_with_trust(evil, rows, tmp_path):
    path, marker = evil
    proc = _cli("predict", str(path), str(rows), "-o", str(tmp_path / "out.csv"), "--trust", cwd=tmp_path)
    assert marker.exists()  # the user vouched for the file, so it was unpickled
    assert proc.returncode == 2 and "Traceback" not in proc.stderr  # and then it is no model


def test_a_trusted_joblib_of_ours_predicts(hgb, rows, tmp_path):
    """The joblib download is pickled in this process from the safely loaded model, and works with --trust."""
    path = export.export_joblib(hgb)
    assert path != hgb.model_path
    path.write_bytes(b"planted")  # someone else's file in the export folder is never handed out
    assert export.export_joblib(hgb) == path and path.read_bytes() != b"planted"
    out = tmp_path / "out.csv"
    proc = _cli("predict", str(path), str(rows), "-o", str(out), "--trust", "--no-log", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    model = hgb.load_model()
    expected = model.predict_proba(hgb.holdout()[hgb.schema.features].head(20))[:, 0]
    np.testing.assert_allclose(pd.read_csv(out)["proba_bad"], expected, atol=1e-9)


@pytest.fixture()
def planted(hgb, evil, tmp_path) -> tuple[Experiment, Path]:
    """A copy of a real experiment whose model file was replaced by the hostile pickle, named as old versions
    named theirs."""
    path, marker = evil
    copy = tmp_path / "ws" / hgb.id
    shutil.copytree(hgb.path, copy)
    (copy / MODEL).unlink()
    shutil.copy(path, copy / LEGACY_MODEL)
    return Experiment(copy), marker


def test_a_planted_model_joblib_never_runs(planted, rows, tmp_path):
    exp, marker = planted
    with pytest.raises(AutoMLError, match="again") as err:
        exp.load_model()
    assert LEGACY_MODEL in err.value.problem
    with pytest.raises(AutoMLError, match="older version"):
        create_app(exp)
    proc = _cli("predict", exp.id, str(rows), "-o", str(tmp_path / "out.csv"), "--workspace",
                str(exp.path.parent), cwd=tmp_path)
    assert proc.returncode == 2 and "Train the experiment again" in proc.stderr, proc.stderr
    assert not marker.exists()


def test_a_pickle_renamed_to_the_skops_name_is_refused(planted, tmp_path):
    exp, marker = planted
    shutil.move(exp.path / LEGACY_MODEL, exp.model_path)
    with pytest.raises(AutoMLError, match="not a readable skops file"):
        exp.load_model()
    assert not marker.exists()


def _tampered(exp: Experiment, edit, tmp_path: Path) -> Path:
    model = exp.load_model()
    edit(model[-1])
    path = tmp_path / "tampered" / MODEL
    path.parent.mkdir()
    sio.dump(model, path)  # only types skops and our list trust: the type check alone would pass it
    assert not export.untrusted_types(path)
    return path


def _hgb_feature(model) -> None:
    model._predictors[0][0].nodes["feature_idx"][0] = 2**30


def _forest_feature(model) -> None:
    model.estimators_[2].tree_.feature[0] = 10**6


def _forest_child(model) -> None:
    model.estimators_[0].tree_.children_left[0] = 0  # a loop back to the root


def _hgb_child(model) -> None:
    model._predictors[1][0].nodes["right"][0] = 10**6


def _knn_point(model) -> None:
    model._tree.get_arrays()[1][0] = 10**6  # the point order, indexed without bounds checks


@pytest.mark.parametrize("which, edit, expected", [
    ("hgb", _hgb_child, "child node index"),
    ("knn", _knn_point, "permutation"),
    ("hgb", _hgb_feature, "feature 1073741824"),
    ("forest", _forest_feature, "feature 1000000"),
    ("forest", _forest_child, "child node index"),
])
def test_a_tampered_tree_is_refused_without_a_crash(which, edit, expected, request, rows, tmp_path):
    exp = request.getfixturevalue(which)
    path = _tampered(exp, edit, tmp_path)
    with pytest.raises(AutoMLError, match=expected):
        load_model_file(path)
    proc = _cli("predict", str(path), str(rows), "-o", str(tmp_path / "out.csv"), cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)  # a crash would be -11 (SIGSEGV)
    assert "Refusing to use" in proc.stderr and expected in proc.stderr and "Traceback" not in proc.stderr


def test_an_untampered_tree_loads_and_predicts(forest):
    model = load_model_file(forest.model_path)
    X = forest.holdout()[forest.schema.features]
    assert model.predict_proba(X).shape == (len(X), 2)


def test_a_type_outside_the_trusted_list_is_refused_by_name(hgb, tmp_path):
    model = hgb.load_model()
    model.steps.insert(1, ("stranger", Stranger()))
    with pytest.raises(AutoMLError, match="Stranger"):
        hgb.save_model(model)  # refused on the way in: the file stays the good one
    assert hgb.load_model().steps[1][0] != "stranger"
    path = tmp_path / MODEL
    sio.dump(model, path)
    with pytest.raises(AutoMLError, match="test_safe_files.Stranger"):
        load_model_file(path)
    with pytest.raises(AutoMLError, match="Stranger"):
        export.load_model(path)
