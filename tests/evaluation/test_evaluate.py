"""Held-out metrics equal scikit-learn's; the bootstrap is right and narrows; thresholds are saved in the model."""

from __future__ import annotations

import joblib
import lightgbm as lgb
import numpy as np
import pytest
from conftest import DATA, SAMPLES
from heldout_helpers import fitted, make_experiment, predictions
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression, Ridge

from automl.errors import AutoMLError
from automl.evaluation import (
    ThresholdClassifier,
    apply_threshold,
    bootstrap_interval,
    calibration_table,
    confusion,
    evaluate,
    evaluate_experiment,
    experiment_evaluation_data,
    gain_table,
    roc_curves,
    save_threshold,
    threshold_table,
    weighted_metric,
)


@pytest.fixture(scope="module")
def credit():
    return fitted(DATA / "credit-g.csv", "class", LogisticRegression(max_iter=2000))


@pytest.fixture(scope="module")
def binary(credit):
    return predictions(None, "class", None, fit=credit)


@pytest.fixture(scope="module")
def multiclass():
    return predictions(DATA / "wine-quality.csv", "quality",
                       lgb.LGBMClassifier(n_estimators=40, verbose=-1, random_state=0, n_jobs=1), style="tree")


@pytest.fixture(scope="module")
def regression():
    return predictions(SAMPLES / "ames-house-prices.csv", "SalePrice", Ridge())


def test_binary_metrics_equal_sklearn(binary):
    task, y, pred, proba, classes = binary
    e = evaluate(y, pred, proba, classes, task, positive="bad", metric="roc_auc")
    p_bad, is_bad = proba[:, classes.index("bad")], y == "bad"
    expected = {
        "accuracy": skm.accuracy_score(y, pred), "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, pos_label="bad"),
        "recall": skm.recall_score(y, pred, pos_label="bad"), "f1": skm.f1_score(y, pred, pos_label="bad"),
        "roc_auc": skm.roc_auc_score(is_bad, p_bad), "average_precision": skm.average_precision_score(is_bad, p_bad),
        "log_loss": skm.log_loss(y, proba, labels=classes), "brier": skm.brier_score_loss(is_bad, p_bad),
        "mcc": skm.matthews_corrcoef(y, pred)}
    assert e.metrics == pytest.approx(expected, rel=1e-12)
    assert e.headline == "roc_auc" and e.positive == "bad" and e.n_rows == len(y) == 300
    assert e.metrics["roc_auc"] > 0.7  # a real model, not noise
    # precision/recall are about 'bad', not the majority class 'good'
    assert e.metrics["recall"] != pytest.approx(skm.recall_score(y, pred, pos_label="good"))
    assert list(e.per_class["class"]) == ["bad", "good"] and e.per_class["support"].sum() == 300


def test_multiclass_metrics_and_per_class_table_equal_sklearn(multiclass):
    task, y, pred, proba, classes = multiclass
    assert task == "multiclass" and len(classes) == 7
    e = evaluate(y, pred, proba, classes, task)
    assert e.headline == "log_loss"
    for avg, suffix in (("macro", ""), ("weighted", "_weighted")):
        assert e.metrics[f"precision{suffix}"] == pytest.approx(
            skm.precision_score(y, pred, average=avg, zero_division=0))
        assert e.metrics[f"recall{suffix}"] == pytest.approx(skm.recall_score(y, pred, average=avg, zero_division=0))
        assert e.metrics[f"f1{suffix}"] == pytest.approx(skm.f1_score(y, pred, average=avg, zero_division=0))
    assert e.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes))
    assert e.metrics["roc_auc_weighted"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted", labels=classes))
    assert e.metrics["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=classes))
    assert e.metrics["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert e.metrics["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    report = skm.classification_report(y, pred, labels=classes, output_dict=True, zero_division=0)
    for row in e.per_class.itertuples():
        ref = report[str(row[1])] if str(row[1]) in report else report[int(row[1])]
        assert (row.precision, row.recall, row.f1, row.support) == pytest.approx(
            (ref["precision"], ref["recall"], ref["f1-score"], ref["support"]))
    assert e.label("f1") == "F1 (macro)" and e.label("roc_auc") == "ROC AUC (one-vs-rest, macro)"


def test_regression_metrics_equal_sklearn_and_mape_needs_nonzero_targets(regression):
    task, y, pred, _, _ = regression
    e = evaluate(y, pred, None, [], task)
    assert e.metrics == pytest.approx({
        "rmse": skm.root_mean_squared_error(y, pred), "mae": skm.mean_absolute_error(y, pred),
        "r2": skm.r2_score(y, pred), "mape": skm.mean_absolute_percentage_error(y, pred),
        "median_ae": skm.median_absolute_error(y, pred)})
    assert e.per_class is None and e.headline == "rmse"
    e0 = evaluate([0.0, 2.0, 4.0, 1.0], [1.0, 2.0, 3.0, 1.0], None, [], "regression", metric="mae")
    assert e0.metrics["mape"] is None and "0" in e0.notes["mape"]
    assert e0.metrics["mae"] == pytest.approx(0.5)  # |1| + 0 + |1| + 0 over 4 rows


@pytest.mark.parametrize("case", ["binary", "multiclass", "regression"])
def test_weighted_metrics_equal_sklearn_on_a_resample(case, request):
    """The bootstrap's vectorised arithmetic: weights = row counts of a resample give sklearn's value on it."""
    task, y, pred, proba, classes = request.getfixturevalue(case)
    positive = "bad" if task == "binary" else None
    idx = np.random.default_rng(7).integers(0, len(y), len(y))
    weights = np.stack([np.ones(len(y)), np.bincount(idx, minlength=len(y))])
    full = evaluate(y, pred, proba, classes, task, positive, n_resamples=10).metrics
    resampled = evaluate(y[idx], pred[idx], None if proba is None else proba[idx], classes, task, positive,
                         n_resamples=10).metrics
    for name, value in full.items():
        got = weighted_metric(name, y, pred, proba, classes, task, positive, weights)
        if resampled[name] is None:  # sklearn: undefined when a class is absent; we average the present ones
            assert got[0] == pytest.approx(value, rel=1e-9) and np.isfinite(got[1]), name
            continue
        assert got == pytest.approx([value, resampled[name]], rel=1e-9), name


def test_bootstrap_interval_contains_the_estimate_narrows_with_rows_and_is_seeded():
    task, y, pred, proba, classes = predictions(DATA / "phoneme.csv", "Class", LogisticRegression(max_iter=1000))
    widths = []
    for n in (200, 1600):
        e = evaluate(y[:n], pred[:n], proba[:n], classes, task, positive=1, metric="roc_auc")
        low, high = e.interval
        assert low < e.metrics["roc_auc"] < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2  # ~1/sqrt(8) as wide with 8 times the rows
    args = (y[:300], pred[:300], proba[:300], classes, task, "f1", 1)
    assert bootstrap_interval(*args, seed=3) == bootstrap_interval(*args, seed=3) != bootstrap_interval(*args, seed=4)


def test_plot_data_matches_sklearn(binary):
    task, y, pred, proba, classes = binary
    p_bad = proba[:, classes.index("bad")]
    conf = confusion(y, pred, classes)
    assert (conf.counts.to_numpy() == skm.confusion_matrix(y, pred, labels=classes)).all()
    assert conf.normalized.sum(axis=1).to_numpy() == pytest.approx([1, 1])
    roc = roc_curves(y, proba, classes, "bad")
    assert roc["auc"].iloc[0] == pytest.approx(skm.roc_auc_score(y == "bad", p_bad))
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(roc["auc"].iloc[0])
    cal = calibration_table(y, proba, classes, "bad", n_bins=10)
    prob_true, prob_pred = calibration_curve(y, p_bad, pos_label="bad", n_bins=10)
    assert cal["fraction_positive"].to_numpy() == pytest.approx(prob_true)
    assert cal["mean_predicted"].to_numpy() == pytest.approx(prob_pred) and cal["count"].sum() == len(y)
    table = threshold_table(y, p_bad, "bad")
    for t in (0.2, 0.5, 0.7):
        row = table.loc[np.isclose(table["threshold"], t)].iloc[0]
        said = np.where(p_bad >= t, "bad", "good")
        assert row["precision"] == pytest.approx(skm.precision_score(y, said, pos_label="bad"))
        assert row["recall"] == pytest.approx(skm.recall_score(y, said, pos_label="bad"))
        assert row["f1"] == pytest.approx(skm.f1_score(y, said, pos_label="bad"))
        assert row["share_positive"] == pytest.approx(np.mean(said == "bad"))
    gain = gain_table(y, p_bad, "bad", points=10)
    top = np.argsort(-p_bad, kind="stable")[:30]  # the top 10% of 300 rows
    assert gain["gain"].iloc[1] == pytest.approx(np.mean(y[top] == "bad") * 30 / np.sum(y == "bad"))
    assert gain["lift"].iloc[1] == pytest.approx(gain["gain"].iloc[1] / 0.1)
    assert gain["gain"].iloc[-1] == 1.0 and gain["gain"].is_monotonic_increasing


def test_threshold_classifier_survives_joblib_and_moves_predictions(tmp_path, credit):
    d, model, X_te, y_te = credit
    wrapped = apply_threshold(model, 0.3, "bad")
    path = tmp_path / "m.joblib"
    joblib.dump(wrapped, path)
    loaded = joblib.load(path)
    assert isinstance(loaded, ThresholdClassifier) and list(loaded.classes_) == ["bad", "good"]
    p_bad = model.predict_proba(X_te)[:, 0]
    assert (loaded.predict(X_te) == np.where(p_bad >= 0.3, "bad", "good")).all()
    assert loaded.predict_proba(X_te) == pytest.approx(model.predict_proba(X_te))
    assert (loaded.predict(X_te) == "bad").sum() > (model.predict(X_te) == "bad").sum()
    # rows just either side of the threshold flip exactly there
    t = float(np.sort(p_bad)[150])
    at = apply_threshold(loaded, t, "bad")  # re-thresholding unwraps, never nests
    assert at.estimator_ is loaded.estimator_
    assert (at.predict(X_te)[p_bad >= t] == "bad").all() and (at.predict(X_te)[p_bad < t] == "good").all()
    assert apply_threshold(loaded, None, "bad") is loaded.estimator_
    with pytest.raises(AutoMLError, match="between 0 and 1"):
        apply_threshold(model, 1.5, "bad")
    with pytest.raises(AutoMLError, match="positive class"):
        apply_threshold(model, 0.5, "neutral")


def test_save_threshold_rewrites_the_model_and_evaluation_follows(tmp_path, credit):
    exp, model, X_te = make_experiment(tmp_path, None, "class", None, fit=credit)
    before = evaluate_experiment(exp)
    hold = exp.holdout()
    direct = evaluate(hold["class"], hold["prediction"], hold[["proba_bad", "proba_good"]], ["bad", "good"],
                      "binary", positive="bad", metric="roc_auc")
    assert before.metrics == pytest.approx(direct.metrics) and before.interval == direct.interval
    save_threshold(exp, 0.25)
    assert exp.meta["threshold"] == 0.25
    saved = exp.load_model()
    assert isinstance(saved, ThresholdClassifier) and saved.threshold == 0.25
    after = evaluate_experiment(exp)
    assert after.threshold == 0.25 and after.metrics["recall"] > before.metrics["recall"]
    assert after.metrics["roc_auc"] == pytest.approx(before.metrics["roc_auc"])  # ranking unchanged
    data = experiment_evaluation_data(exp)
    assert data.threshold == 0.25 and data.confusion.counts.loc[:, "bad"].sum() == (saved.predict(X_te) == "bad").sum()
    save_threshold(exp, None)
    assert exp.meta["threshold"] is None and not isinstance(exp.load_model(), ThresholdClassifier)


def test_user_errors_are_automl_errors(tmp_path, multiclass):
    task, y, pred, proba, classes = multiclass
    with pytest.raises(AutoMLError, match="not among the model's classes"):
        evaluate(np.append(y[:-1], 42), pred, proba, classes, task)
    with pytest.raises(AutoMLError, match="rmse"):
        evaluate(y, pred, proba, classes, task, metric="rmse")
    exp, _, _ = make_experiment(tmp_path, SAMPLES / "car-evaluation.csv", "class", LogisticRegression(max_iter=500))
    with pytest.raises(AutoMLError, match="binary"):
        save_threshold(exp, 0.4)
    assert evaluate_experiment(exp, n_resamples=200).per_class.shape == (4, 5)
