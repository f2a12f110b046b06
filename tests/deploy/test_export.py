"""Model files: joblib, skops and ONNX predict the same on raw rows; skops refuses untrusted types; model card."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from knn_ties import last_place_tied
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import automl
from automl.algorithms import ALGORITHMS
from automl.deploy import _export as export
from automl.deploy._input_check import check_rows
from automl.errors import AutoMLError, DataError
from automl.experiment import MODEL, Experiment

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "automl" / "data" / "samples" / "titanic.csv"
WINE = ROOT / "tests" / "fixtures" / "wine-quality.csv"
CAR = ROOT / "automl" / "data" / "samples" / "car-evaluation.csv"


def _supported(name: str, exp: Experiment) -> bool:
    return ALGORITHMS[name].converts(exp.task, exp.schema)  # the registry's declaration, with its reason when False


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export-ws")


@pytest.fixture(scope="module")
def fitted(ws):
    """Experiments fitted on demand and shared: (algorithm, task) -> Experiment."""
    cache: dict[tuple[str, str], Experiment] = {}

    def get(name: str, task: str) -> Experiment:
        if (name, task) not in cache:
            if task == "binary":
                frame, target, trials = pd.read_csv(TITANIC), "Survived", 2
            elif task == "multiclass":
                frame, target, trials = pd.read_csv(CAR), "class", 1
            else:  # a small regression table with a categorical column
                frame, target, trials = pd.read_csv(WINE).sample(600, random_state=0), "quality", 1
            cache[name, task] = automl.fit(frame, target, task=task, trials=trials, seed=0, workspace=ws,
                                           ensemble=False, algorithms=[name])
        return cache[name, task]
    return get


def _features(exp: Experiment) -> pd.DataFrame:
    return exp.holdout()[exp.schema.features]


def _with_missing(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The same rows with 15% of the cells blanked: missing values must take the same paths."""
    mask = np.random.default_rng(seed).random(frame.shape) < 0.15
    return frame.astype(object).mask(mask)


def _assert_same(model, exp: Experiment, X: pd.DataFrame, labels, proba) -> None:
    if exp.task == "regression":
        ref = model.predict(X)
        np.testing.assert_allclose(np.asarray(labels, dtype=float), ref, rtol=1e-4, atol=1e-4)
    else:
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-4)
        assert [str(v) for v in labels] == [str(v) for v in model.predict(X)]


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_three_formats_agree_per_algorithm(name, fitted):
    algo = ALGORITHMS[name]
    exp = fitted(name, "binary" if "binary" in algo.tasks else "regression")
    model, X = exp.load_model(), _features(exp)
    skops_model = export.load_model(export.export_skops(exp))
    for rows in (X, _with_missing(X)):
        if exp.task == "regression":
            np.testing.assert_allclose(skops_model.predict(rows), model.predict(rows), rtol=1e-12)
        else:
            np.testing.assert_allclose(skops_model.predict_proba(rows), model.predict_proba(rows), atol=1e-12)
    ok, why = export.onnx_support(exp)
    if not _supported(name, exp):
        assert not ok and algo.onnx_refusal(exp.task, exp.schema) in why  # the reason the registry gives
        with pytest.raises(AutoMLError, match="ONNX"):
            export.export_onnx(exp)
        assert not exp.file("export/model.onnx").exists()
        return
    assert ok, why
    path = export.export_onnx(exp)  # itself checks that 99% of the held-out rows agree
    for rows in (X, _with_missing(X)):
        labels, proba = export.onnx_predict(path, rows)
        decided = ~last_place_tied(model, rows)  # kNN: every row but those scikit-learn's search order decides
        _assert_same(model, exp, rows[decided], labels[decided], None if proba is None else proba[decided])


@pytest.mark.parametrize("name,task", [("lightgbm", "multiclass"), ("lightgbm", "regression")])
def test_onnx_parity_other_tasks(name, task, fitted):
    exp = fitted(name, task)
    model, X = exp.load_model(), _features(exp)
    labels, proba = export.onnx_predict(export.export_onnx(exp), X)
    _assert_same(model, exp, X, labels, proba)
    if task == "multiclass":
        assert proba.shape == (len(X), len(exp.classes))


def test_onnx_applies_a_saved_decision_threshold(fitted, tmp_path):
    from automl.evaluation import save_threshold

    src = fitted("lightgbm", "binary")
    exp = Experiment(Path(shutil.copytree(src.path, tmp_path / src.id)))
    model = save_threshold(exp, 0.25)
    X = _features(exp)
    labels, proba = export.onnx_predict(export.export_onnx(exp), X)
    expected = model.predict(X)
    p_pos = model.predict_proba(X)[:, list(model.classes_).index(model.positive)]
    assert (expected != model.estimator_.predict(X)).any()  # the threshold changes some labels
    clear = np.abs(p_pos - 0.25) > 1e-4
    assert [str(v) for v in labels[clear]] == [str(v) for v in expected[clear]]
    assert type(export.load_model(export.export_skops(exp))).__name__ == "ThresholdClassifier"


def test_ensemble_exports_to_onnx_and_dates_get_no_onnx_file_but_skops_works(fitted, tmp_path, monkeypatch):
    from automl.final import WeightedEnsemble

    src = fitted("lightgbm", "binary")
    exp = Experiment(Path(shutil.copytree(src.path, tmp_path / src.id)))
    members = [src.load_model(), fitted("logistic_regression", "binary").load_model()]
    ensemble = WeightedEnsemble(members, [0.7, 0.3], "binary")._set_fitted()
    exp.save_model(ensemble)
    exp.update(model={"kind": "ensemble", "algorithm": "ensemble", "ensemble": {"members": [
        {"trial": 0, "algorithm": "lightgbm", "weight": 0.7},
        {"trial": 1, "algorithm": "logistic_regression", "weight": 0.3}]}})
    assert export.onnx_support(exp) == (True, "")
    X = _features(exp)
    for rows in (X, _with_missing(X)):
        labels, proba = export.onnx_predict(export.export_onnx(exp), rows)
        _assert_same(ensemble, exp, rows, labels, proba)
    loaded = export.load_skops(export.export_skops(exp))
    np.testing.assert_allclose(loaded.predict_proba(X), ensemble.predict_proba(X), atol=1e-12)
    names = zipfile.ZipFile(io.BytesIO(export.bundle(exp))).namelist()
    assert {"model.onnx", "model.joblib", MODEL, "README.md"} <= set(names)
    # A member the registry says can't convert (every entry converts today: one is declared so here): refused,
    # with its reason.
    monkeypatch.setitem(ALGORITHMS, "svm", replace(ALGORITHMS["svm"], onnx=(), onnx_reason="declared so by a test"))
    exp.update(model={"kind": "ensemble", "algorithm": "ensemble", "ensemble": {"members": [
        {"trial": 0, "algorithm": "svm", "weight": 1.0}]}})
    ok, why = export.onnx_support(exp)
    assert not ok and "declared so by a test" in why
    monkeypatch.undo()

    rng = np.random.default_rng(0)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, 240), unit="D")
    frame = pd.DataFrame({"when": days.strftime("%Y-%m-%d"), "x": rng.normal(size=240)})
    frame["y"] = np.where(frame["x"] + (days.month > 6) > 0.5, "hi", "lo")
    dated = automl.fit(frame, "y", trials=1, seed=0, workspace=tmp_path / "ws", ensemble=False,
                       algorithms=["lightgbm"])
    ok, why = export.onnx_support(dated)
    assert not ok and "when" in why
    loaded = export.load_model(export.export_skops(dated))
    np.testing.assert_allclose(loaded.predict_proba(frame), dated.load_model().predict_proba(frame), atol=1e-12)


class Stranger(BaseEstimator, TransformerMixin):
    """A class from outside our trusted list."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


@pytest.mark.parametrize("payload", ["function", "class"])
def test_skops_file_with_untrusted_type_is_refused(payload, tmp_path):
    step = FunctionTransformer(func=os.system) if payload == "function" else Stranger()
    path = tmp_path / "evil.skops"
    sio.dump(Pipeline([("step", step)]), path)
    with pytest.raises(AutoMLError, match="system" if payload == "function" else "Stranger") as err:
        export.load_model(path)
    assert "untrusted" in str(err.value)


def test_edited_skops_schema_is_refused(fitted, tmp_path):
    good = export.export_skops(fitted("logistic_regression", "binary"))
    with zipfile.ZipFile(good) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    schema = json.loads(files["schema.json"])
    text = json.dumps(schema).replace('"__module__": "automl.data._preprocess"', '"__module__": "os"', 1)
    text = text.replace('"__class__": "FrameCoercer"', '"__class__": "system"', 1)
    assert text != json.dumps(schema)
    files["schema.json"] = text.encode()
    tampered = tmp_path / "tampered.skops"
    with zipfile.ZipFile(tampered, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with pytest.raises(AutoMLError, match="os.system"):
        export.load_skops(tampered)


def test_check_rows_names_missing_columns_and_counts_bad_values(fitted):
    exp = fitted("lightgbm", "binary")
    X = _features(exp).head(5).copy()
    with pytest.raises(DataError, match="Age.*Fare|Fare.*Age"):
        check_rows(X.drop(columns=["Age", "Fare"]), exp.schema)
    raw = X.astype(object)
    raw["Age"] = ["22", "abc", None, " 40 ", "x"]
    raw["extra"] = 1
    checked = check_rows(raw, exp.schema)
    clean, warnings = checked.frame, checked.warnings
    assert list(clean.columns) == exp.schema.features
    assert clean["Age"].tolist()[0] == 22.0 and clean["Age"].tolist()[3] == 40.0
    assert np.isnan(clean["Age"].tolist()[1]) and np.isnan(clean["Age"].tolist()[4])
    assert any("extra" in w for w in warnings)
    assert any("'Age': 2 value(s)" in w for w in warnings)
    assert checked.row_errors[0] == "" and "Age" in checked.row_errors[1] and "Age" in checked.row_errors[4]


def test_model_card_and_bundle(fitted):
    exp = fitted("lightgbm", "binary")
    card = export.model_card(exp)
    meta, schema = exp.meta, exp.schema
    assert card["task"] == "binary" and card["metric"] == meta["metric"]
    assert card["performance"]["holdout"] == meta["holdout"]
    low, high = card["performance"]["interval"]
    assert low <= meta["holdout"][meta["metric"]] <= high
    columns = {c["name"]: c for c in card["data"]["columns"]}
    assert columns["Sex"]["categories"] == schema["Sex"].categories
    assert columns["Fare"]["range"] == [schema["Fare"].minimum, schema["Fare"].maximum]
    dropped = [c.name for c in schema.columns if not c.usable]
    assert dropped and all(any(f"'{d}'" in text for text in card["limitations"]) for d in dropped)
    assert card["versions"]["scikit-learn"] == meta["versions"]["scikit-learn"]
    text = export.model_card_markdown(card)
    assert "## Input schema" in text and "| Sex | categorical | yes |" in text
    archive = zipfile.ZipFile(io.BytesIO(export.bundle(exp)))
    assert set(archive.namelist()) == {"model.joblib", MODEL, "model.onnx", "model_card.md",
                                       "model_card.json", "README.md"}
    assert json.loads(archive.read("model_card.json"))["experiment"]["id"] == exp.id
    readme = archive.read("README.md").decode()
    assert all(f"## model.{fmt}" in readme for fmt in ("joblib", "skops", "onnx"))
    with pytest.raises(AutoMLError, match="format"):
        export.bundle(exp, ["pickle"])
    with pytest.raises(AutoMLError, match="knows"):
        export.load_model(exp.file("experiment.json"))
