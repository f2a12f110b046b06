"""Batch predictions (rows in order, per-row errors), the prediction log, and ``automl predict``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl
from automl.cli._main import main
from automl.deploy import _prediction_log as prediction_log
from automl.deploy import describe_model, predict_experiment, predict_frame
from automl.experiment import Experiment

ROOT = Path(__file__).resolve().parents[2]
CREDIT = ROOT / "tests" / "fixtures" / "credit-g.csv"


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("predict-ws")


@pytest.fixture(scope="module")
def exp(ws) -> Experiment:
    return automl.fit(CREDIT, "class", trials=1, seed=0, workspace=ws, ensemble=False, algorithms=["lightgbm"])


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return pd.read_csv(CREDIT)


def test_rows_come_back_in_input_order_with_probabilities(exp, credit):
    frame = credit.sample(150, random_state=1)  # shuffled, with a non-default index
    result = predict_frame(exp.load_model(), frame, exp.schema, exp.task, exp.classes)
    model = exp.load_model()
    assert len(result.frame) == 150 and list(result.frame["duration"]) == list(frame["duration"])
    assert list(result.frame.columns[-4:]) == ["prediction", "proba_bad", "proba_good", "errors"]
    np.testing.assert_allclose(result.frame[["proba_bad", "proba_good"]].to_numpy(), model.predict_proba(frame))
    assert list(result.frame["prediction"]) == list(model.predict(frame))
    assert result.n_errors == 0 and result.warnings == ["Ignored 1 column(s) the model does not use: class."]


def test_an_unreadable_value_flags_its_row_but_is_predicted_as_missing(exp, credit):
    frame = credit.drop(columns=["class"]).head(6).astype(object)
    frame.loc[2, "credit_amount"] = "a lot"
    frame.loc[4, "age"] = "forty"
    frame.loc[5, "duration"] = "12"  # a number sent as text is just a number
    result = predict_frame(exp.load_model(), frame, exp.schema, exp.task, exp.classes)
    errors = result.frame["errors"].tolist()
    assert errors[2] == "credit_amount: 'a lot' is not a number (treated as missing)"
    assert errors[4].startswith("age: 'forty'") and errors[5] == "" and result.n_errors == 2
    expected = frame.copy()
    expected.loc[2, "credit_amount"], expected.loc[4, "age"], expected.loc[5, "duration"] = np.nan, np.nan, 12
    np.testing.assert_allclose(result.frame["proba_bad"], exp.load_model().predict_proba(expected)[:, 0])


def test_batch_predictions_are_logged_and_read_back(exp, credit):
    before = prediction_log.count(exp)
    frame = credit.drop(columns=["class"]).iloc[10:30]
    result = predict_experiment(exp, frame, source="batch")
    assert prediction_log.count(exp) == before + 20
    log = prediction_log.read(exp).tail(20).reset_index(drop=True)
    assert set(log["source"]) == {"batch"} and str(log["timestamp"].dt.tz) == "UTC"
    assert log["duration"].tolist() == frame["duration"].astype(float).tolist()
    assert log["purpose"].tolist() == frame["purpose"].tolist()
    assert log["prediction"].tolist() == result.frame["prediction"].tolist()
    np.testing.assert_allclose(log["proba_good"], result.frame["proba_good"])
    predict_experiment(exp, frame.head(3), log=False)
    assert prediction_log.count(exp) == before + 20


def test_log_time_window_and_large_batch(exp, credit):
    stamp = pd.Timestamp.now(tz="UTC")
    frame = credit.drop(columns=["class"])
    big = pd.concat([frame] * 100, ignore_index=True)  # 100,000 rows in one transaction
    result = predict_frame(exp.load_model(), big, exp.schema, exp.task, exp.classes)
    assert prediction_log.append(exp, result.inputs, result.outputs, "form") == 100_000
    assert prediction_log.count(exp, since=stamp) == 100_000
    assert prediction_log.count(exp, until=stamp) == prediction_log.count(exp) - 100_000
    latest = prediction_log.read(exp, since=stamp, source="form", limit=5)
    assert len(latest) == 5 and latest["id"].is_monotonic_increasing
    with pytest.raises(automl.AutoMLError, match="source"):
        prediction_log.append(exp, result.inputs.head(1), result.outputs.head(1), "email")


def test_cli_predict_with_experiment_and_model_files(exp, credit, tmp_path, capsys):
    data = tmp_path / "rows.csv"
    credit.iloc[::-1].head(40).to_csv(data, index=False)
    out = tmp_path / "out.csv"
    assert main(["predict", exp.id, str(data), "-o", str(out), "--workspace", str(exp.path.parent)]) == 0
    written = pd.read_csv(out)
    assert written["duration"].tolist() == credit.iloc[::-1].head(40)["duration"].tolist()
    np.testing.assert_allclose(written["proba_bad"], exp.load_model().predict_proba(credit.iloc[::-1].head(40))[:, 0])
    from automl.deploy import export_onnx, export_skops

    for path in (export_onnx(exp), export_skops(exp), exp.model_path):
        target = tmp_path / f"out-{path.suffix[1:]}.parquet"
        count = prediction_log.count(exp)
        assert main(["predict", str(path), str(data), "-o", str(target), "--no-log"]) == 0
        assert prediction_log.count(exp) == count
        np.testing.assert_allclose(pd.read_parquet(target)["proba_bad"], written["proba_bad"], atol=1e-4)
    assert describe_model(exp.load_model())[1:] == ("binary", ["bad", "good"])
    capsys.readouterr()
    assert main(["predict", exp.id, str(data.with_name("none.csv")), "-o", str(out),
                 "--workspace", str(exp.path.parent)]) == 2
    credit.drop(columns=["age", "job"]).to_csv(data, index=False)
    assert main(["predict", exp.id, str(data), "-o", str(out), "--workspace", str(exp.path.parent)]) == 2
    assert "age, job" in capsys.readouterr().err
    assert main(["predict", "nosuchexperiment", str(data), "-o", str(out), "--workspace",
                 str(exp.path.parent)]) == 2
