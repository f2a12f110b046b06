"""Monitoring on real data: performance against sklearn, CBPE, importance, over time, JSON, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from automl import experiment as ex
from automl.data import build_pipeline, load_dataset
from automl.experiment import Workspace
from automl.monitor import MonitorReport, build_reference, expected_roc_auc, monitor, monitor_experiment

DATA = Path(__file__).parents[1] / "fixtures"
SAMPLES = Path(__file__).parents[2] / "automl" / "data" / "samples"
MAIN = Path(__file__).parents[2]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Gradient boosting's OpenMP threads thrash on a busy 2-core machine; one thread is faster there."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def phoneme_exp(tmp_path_factory):
    """A completed experiment built from pieces: calibrated gradient boosting on phoneme; live rows kept apart."""
    ds = load_dataset(DATA / "phoneme.csv", "Class")
    order = np.random.default_rng(0).permutation(len(ds.X))
    frame = ds.X.assign(Class=ds.y)
    train, hold, live = frame.iloc[order[:3000]], frame.iloc[order[3000:4000]], frame.iloc[order[4000:]]
    calibrated = CalibratedClassifierCV(HistGradientBoostingClassifier(max_iter=100, random_state=0), cv=5,
                                        method="isotonic")
    model = build_pipeline(ds.schema, calibrated, "tree", "binary")
    model.fit(train.drop(columns="Class"), train["Class"])
    root = tmp_path_factory.mktemp("ws")
    exp = Workspace(root).create(name="phoneme")
    exp.save_model(model)
    proba = model.predict_proba(hold.drop(columns="Class"))
    holdout = hold.assign(prediction=model.classes_[proba.argmax(1)],
                          **{f"proba_{c}": proba[:, j] for j, c in enumerate(model.classes_)})
    exp.write_frame(ex.TRAIN, train)
    exp.write_frame(ex.HOLDOUT, holdout)
    positive = 2  # the minority class
    exp.update(status=ex.COMPLETED, task="binary", target="Class", metric="roc_auc", schema=ds.schema.to_dict(),
               classes=[1, 2], positive_class=positive,
               holdout={"roc_auc": skm.roc_auc_score(hold["Class"] == positive, proba[:, 1]),
                        "accuracy": skm.accuracy_score(hold["Class"], holdout["prediction"])})
    return exp, model, live, root


@pytest.fixture(scope="module")
def labelled_report(phoneme_exp):
    exp, _, live, _ = phoneme_exp
    return monitor_experiment(exp, live, timestamp_column=None)


def test_monitor_experiment_builds_reference_and_caches_importance(phoneme_exp, labelled_report):
    exp = phoneme_exp[0]
    assert exp.file("reference.json").exists() and exp.file("reference_sample.parquet").exists()
    cached = json.loads(exp.file("monitor_importance.json").read_text())
    assert cached["method"] == "permutation" and set(cached["importance"]) == {f"V{i}" for i in range(1, 6)}
    assert labelled_report.importance is not None
    # Importances the caller passes (explain's SHAP shares, say) take precedence over the permutation cache.
    report = monitor_experiment(exp, phoneme_exp[2].drop(columns="Class"), importances={"V1": 3.0, "V2": 1.0})
    weights = report.table().set_index("column")["importance"]
    assert weights["V1"] == pytest.approx(0.75) and weights["V3"] == 0.0
    # Without them, monitoring uses its own permutation importance: it never reads explain's files by path.
    exp.write_json("explain/importance.json", {"V1": 1.0})
    try:
        own = monitor_experiment(exp, phoneme_exp[2].drop(columns="Class")).table().set_index("column")["importance"]
    finally:
        exp.file("explain/importance.json").unlink()
    total = sum(cached["importance"].values())
    assert total > 0 and own.to_dict() == pytest.approx({k: v / total for k, v in cached["importance"].items()})


def test_performance_with_labels_matches_sklearn(phoneme_exp, labelled_report):
    _, model, live, _ = phoneme_exp
    proba = model.predict_proba(live.drop(columns="Class"))
    pred = model.classes_[proba.argmax(1)]
    truth = live["Class"].to_numpy()
    actual = {r["metric"]: r["actual"] for r in labelled_report.performance["rows"]}
    assert actual["accuracy"] == pytest.approx(skm.accuracy_score(truth, pred), abs=1e-12)
    assert actual["roc_auc"] == pytest.approx(skm.roc_auc_score(truth == 2, proba[:, 1]), abs=1e-12)
    assert actual["f1"] == pytest.approx(skm.f1_score(truth, pred, pos_label=2), abs=1e-12)
    assert actual["log_loss"] == pytest.approx(skm.log_loss(truth, proba), rel=1e-6)
    assert actual["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(truth, pred), abs=1e-12)
    assert labelled_report.performance["labelled_rows"] == len(live)
    low, high = labelled_report.performance["interval"]["low"], labelled_report.performance["interval"]["high"]
    assert low <= actual["roc_auc"] <= high
    holdout = {r["metric"]: r["holdout"] for r in labelled_report.performance["rows"]}
    assert holdout["roc_auc"] == pytest.approx(phoneme_exp[0].meta["holdout"]["roc_auc"])


def test_many_labelled_rows_skip_the_bootstrap_but_score_the_same(phoneme_exp, labelled_report, monkeypatch):
    import automl.monitor._performance as monitor_module

    monkeypatch.setattr(monitor_module, "BOOTSTRAP_ROWS", 100)
    report = monitor_experiment(phoneme_exp[0], phoneme_exp[2])
    assert report.performance["interval"] is None
    for fast, slow in zip(report.performance["rows"], labelled_report.performance["rows"]):
        assert fast["metric"] == slow["metric"] and fast["actual"] == pytest.approx(slow["actual"], abs=1e-12)


def test_confidence_based_estimate_is_close_to_the_real_metric(labelled_report):
    rows = {r["metric"]: r for r in labelled_report.performance["rows"]}
    assert abs(rows["accuracy"]["estimated"] - rows["accuracy"]["actual"]) < 0.03
    assert abs(rows["roc_auc"]["estimated"] - rows["roc_auc"]["actual"]) < 0.03


def test_expected_roc_auc_is_the_mean_auc_over_labels_drawn_from_the_probabilities():
    rng = np.random.default_rng(5)
    p = rng.beta(0.7, 1.3, 1500)
    draws = [skm.roc_auc_score(rng.random(len(p)) < p, p) for _ in range(300)]
    assert expected_roc_auc(p) == pytest.approx(np.mean(draws), abs=0.005)
    assert expected_roc_auc(np.array([1.0, 0.0])) == 1.0
    assert expected_roc_auc(np.full(10, 0.3)) == pytest.approx(0.5)


def test_no_alarm_on_fresh_rows_and_prediction_drift_when_shifted(labelled_report, phoneme_exp):
    assert not labelled_report.drift_detected and labelled_report.dataset["n_drifted"] == 0
    assert labelled_report.prediction["main"] == "proba_2" and labelled_report.prediction["drifted"] is False
    exp, _, live, _ = phoneme_exp
    shifted = live.copy()
    for col in ("V1", "V2", "V3"):
        shifted[col] = shifted[col] + shifted[col].std()
    report = monitor_experiment(exp, shifted)
    assert report.drift_detected and report.dataset["drifted"] and report.prediction["drifted"]
    assert {r["column"] for r in report.features if r["drifted"]} == {"V1", "V2", "V3"}


def test_importance_weighted_headline():
    ds = load_dataset(DATA / "wine-quality.csv", "quality")
    order = np.random.default_rng(1).permutation(len(ds.X))
    train, live = ds.X.iloc[order[:4500]], ds.X.iloc[order[4500:]].copy()
    ref = build_reference(train, ds.schema, None, ds.task)
    importances = {c: 0.04 for c in ds.schema.features} | {"alcohol": 0.6}
    moved = live.assign(alcohol=live["alcohol"] + train["alcohol"].std())
    report = monitor(ref, moved, importances=importances)
    assert report.headline == "Drift in 1 of 12 features, carrying 58% of the model's importance: it matters."
    assert report.drift_detected and not report.dataset["drifted"]
    moved = live.assign(pH=live["pH"] + train["pH"].std())
    report = monitor(ref, moved, importances=importances)
    assert "it hardly matters" in report.headline and not report.drift_detected


def test_drift_over_time_and_json_round_trip(phoneme_exp):
    exp, model, live, _ = phoneme_exp
    live = live.copy()
    day = np.arange(len(live)) * 7 // len(live)  # 7 days, ~200 rows each
    live["when"] = (pd.Timestamp("2024-03-04") + pd.to_timedelta(day, unit="D")).astype(str)
    late = day >= 5
    live.loc[late, "V1"] = live.loc[late, "V1"] + 1.5 * live["V1"].std()
    report = monitor_experiment(exp, live, timestamp_column="when")
    assert [p["period"] for p in report.over_time] == [f"2024-03-{d:02d}" for d in range(4, 11)]
    early, late = report.over_time[:5], report.over_time[5:]
    # Each day is ~200 rows, so each feature is tested with KS (5% false alarms by design).
    assert sum("V1" in p["drifted"] for p in early) <= 1 and np.mean([p["share_drifted"] for p in early]) <= 0.15
    assert all("V1" in p["drifted"] and p["worst_feature"] == "V1" for p in late)
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    back = MonitorReport.from_dict(json.loads(text))
    assert back.to_dict() == data and back.table().equals(report.table())


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_other_tasks_score_like_sklearn(task):
    path, target = (SAMPLES / "ames-house-prices.csv", "SalePrice") if task == "regression" else (
        DATA / "wine-quality.csv", "quality")
    ds = load_dataset(path, target)
    order = np.random.default_rng(2).permutation(len(ds.X))
    cut = int(0.7 * len(order))
    X, y, Xl, yl = ds.X.iloc[order[:cut]], ds.y.iloc[order[:cut]], ds.X.iloc[order[cut:]], ds.y.iloc[order[cut:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "regression":
            model = build_pipeline(ds.schema, Ridge(alpha=10.0), "linear", task).fit(X, y)
            preds = pd.Series(model.predict(X))
        else:
            model = build_pipeline(ds.schema, HistGradientBoostingClassifier(max_iter=30), "tree", task).fit(X, y)
            preds = pd.DataFrame(model.predict_proba(X), columns=model.classes_)
        ref = build_reference(X, ds.schema, preds, task, target=y)
        report = monitor(ref, Xl.assign(**{target: yl}), model=model, target=target, task=task)
        actual = {r["metric"]: r["actual"] for r in report.performance["rows"]}
        if task == "regression":
            assert actual["rmse"] == pytest.approx(skm.root_mean_squared_error(yl, model.predict(Xl)))
            assert actual["r2"] == pytest.approx(skm.r2_score(yl, model.predict(Xl)))
        else:
            assert actual["accuracy"] == pytest.approx(skm.accuracy_score(yl, model.predict(Xl)))
            assert actual["log_loss"] == pytest.approx(skm.log_loss(yl, model.predict_proba(Xl)), rel=1e-6)
    assert report.target["against"] == "training labels" and report.target["drifted"] is False
    assert report.prediction["rows"]


def test_figures_are_built_from_the_report(labelled_report):
    from automl.plots import monitor as plots

    for fig in (plots.feature_distribution_figure(labelled_report, "V1"), plots.drift_summary_figure(labelled_report),
                plots.prediction_distribution_figure(labelled_report)):
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text and len(fig.data) >= 1
    hist = plots.feature_distribution_figure(labelled_report, "V1")
    widths = np.diff(labelled_report.features[0]["distribution"]["edges"])
    assert np.sum(np.asarray(hist.data[0].y) * widths) == pytest.approx(1.0)  # densities integrate to one
    with pytest.raises(ValueError):
        plots.drift_over_time_figure(labelled_report)


# -- the CLI -------------------------------------------------------------------------------------------
def test_cli_exit_codes(phoneme_exp, tmp_path, capsys):
    from automl.cli._main import main

    exp, _, live, root = phoneme_exp
    fresh, moved, broken = tmp_path / "fresh.csv", tmp_path / "moved.parquet", tmp_path / "broken.csv"
    live.to_csv(fresh, index=False)
    live.assign(V1=live["V1"] + 2, V2=live["V2"] + 2, V3=live["V3"] - 2).to_parquet(moved)
    live.drop(columns=["V4"]).to_csv(broken, index=False)
    assert main(["monitor", exp.id, str(fresh), "--workspace", str(root)]) == 0
    out = capsys.readouterr().out
    assert "No drift in the 5 features." in out and "column" in out and "V1" in out
    assert main(["monitor", exp.id, str(moved), "--workspace", str(root), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["drift_detected"] is True
    assert main(["monitor", exp.id, str(broken), "--workspace", str(root)]) == 2
    assert "V4" in capsys.readouterr().err
    assert main(["monitor", "nosuchid", str(fresh), "--workspace", str(root)]) == 2
    assert main(["monitor", exp.id, str(tmp_path / "missing.csv"), "--workspace", str(root)]) == 2
    assert main(["monitor", exp.id, str(fresh), "--workspace", str(root), "--threshold", "2"]) == 2
    # And as a real process, the exit code the shell sees.
    done = subprocess.run([sys.executable, "-m", "automl", "monitor", exp.id, str(moved), "--workspace", str(root)],
                          cwd=MAIN, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 1, done.stderr
    assert "Drift in 3 of 5 features" in done.stdout


def test_live_labels_follow_the_training_rules_spaces_stripped_and_blank_missing():
    """Labels typed by hand come back as ' yes' or 'no ' and some blank: they are the classes trained on, and a
    blank one is a missing label, as `automl fit` reads them."""
    ds = load_dataset(DATA / "phoneme.csv", "Class")
    y = ds.y.map({1: "no", 2: "yes"})
    X, Xl, yl = ds.X.iloc[:3000], ds.X.iloc[3000:4000], y.iloc[3000:4000]
    model = build_pipeline(ds.schema, HistGradientBoostingClassifier(max_iter=30), "tree", "binary").fit(X, y[:3000])
    ref = build_reference(X, ds.schema, pd.DataFrame(model.predict_proba(X), columns=model.classes_), "binary",
                          target=y[:3000])
    typed = yl.map({"yes": " yes", "no": "no "}).where(np.arange(len(yl)) % 10 != 0, "  ")
    report = monitor(ref, Xl.assign(Class=typed), model=model, target="Class", task="binary", positive="yes")
    known = np.arange(len(yl)) % 10 != 0
    assert report.performance["labelled_rows"] == known.sum() and report.performance["unknown_label_rows"] == 0
    actual = {r["metric"]: r["actual"] for r in report.performance["rows"]}
    assert actual["accuracy"] == pytest.approx(skm.accuracy_score(yl[known], model.predict(Xl[known])))
