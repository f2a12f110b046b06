"""Per-group rates and gaps equal hand-computed numbers (and fairlearn's); warnings say what a gap means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, SAMPLES
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from heldout_helpers import fitted, make_experiment
from sklearn.linear_model import LogisticRegression

from automl.errors import AutoMLError
from automl.evaluation import experiment_fairness, fairness_report, group_labels, save_threshold, sensitive_candidates
from automl.plots.fairness import fairness_figures

# Ten people, positive class "yes". Group A: 6 rows, group B: 4 rows.
HAND = pd.DataFrame({
    "group": ["A"] * 6 + ["B"] * 4,
    "y":    ["yes", "yes", "yes", "no", "no", "no",   "yes", "no", "no", "no"],   # noqa: E241
    "pred": ["yes", "yes", "no", "yes", "no", "no",   "no", "no", "no", "yes"],   # noqa: E241
})


def test_binary_rates_and_gaps_match_the_hand_computation():
    report = fairness_report(HAND[["group"]], HAND["y"], HAND["pred"], "group", "binary", positive="yes")
    col = report.columns[0]
    table = col.table.set_index("group")
    # A: predicted yes 3/6; right on rows 1,2,5,6 = 4/6; finds 2 of its 3 real yes; 1 of its 3 no called yes.
    # B: predicted yes 1/4; right on rows 2,3 = 2/4; finds 0 of its 1 real yes; 1 of its 3 no called yes.
    assert table.loc["A", ["count", "selection_rate", "accuracy", "tpr", "fpr"]].tolist() == pytest.approx(
        [6, 3 / 6, 4 / 6, 2 / 3, 1 / 3])
    assert table.loc["B", ["count", "selection_rate", "accuracy", "tpr", "fpr"]].tolist() == pytest.approx(
        [4, 1 / 4, 2 / 4, 0 / 1, 1 / 3])
    assert col.gaps["demographic_parity_difference"] == pytest.approx(0.5 - 0.25)
    assert col.gaps["tpr_gap"] == pytest.approx(2 / 3) and col.gaps["fpr_gap"] == pytest.approx(0.0)
    assert col.gaps["equalized_odds_difference"] == pytest.approx(2 / 3)  # the larger of the two gaps
    assert col.gaps["accuracy_gap"] == pytest.approx(4 / 6 - 2 / 4)
    dp, eo = col.warnings
    assert "50%" in dp and "25%" in dp and "'A'" in dp and "0.25" in dp
    assert "really are 'yes'" in eo and "67%" in eo and "0%" in eo and "0.67" in eo
    assert "(4 rows)" in col.notes[0] and "(6 rows)" in col.notes[0]  # both groups are small: said so
    quiet = fairness_report(HAND[["group"]], HAND["y"], HAND["pred"], "group", "binary", "yes", threshold=0.7)
    assert quiet.warnings == []


def test_regression_mae_per_group_matches_the_hand_computation():
    frame = pd.DataFrame({"sex": ["M", "M", "M", "F", "F"]})
    y, pred = [10.0, 20.0, 30.0, 10.0, 20.0], [12.0, 18.0, 30.0, 15.0, 25.0]
    col = fairness_report(frame, y, pred, ["sex"], "regression").columns[0]
    table = col.table.set_index("group")
    # M: errors 2, 2, 0 -> MAE 4/3, mean prediction 20; F: errors 5, 5 -> MAE 5, mean prediction 20, actual 15
    assert table.loc["M", ["count", "mae", "mean_prediction", "mean_actual"]].tolist() == pytest.approx(
        [3, 4 / 3, 20, 20])
    assert table.loc["F", ["count", "mae", "mean_prediction", "mean_actual"]].tolist() == pytest.approx(
        [2, 5, 20, 15])
    assert col.gaps == {"mae_gap": pytest.approx(5 - 4 / 3)}
    # overall MAE 14/5 = 2.8; the gap is 131% of it
    assert len(col.warnings) == 1 and "'F'" in col.warnings[0] and "131%" in col.warnings[0]


def test_multiclass_is_one_vs_rest_on_the_rarest_class():
    frame = pd.DataFrame({"g": ["x", "x", "x", "y", "y", "y", "y"]})
    y = ["a", "a", "c", "b", "b", "a", "b"]  # c is the rarest class
    pred = ["a", "c", "c", "b", "c", "a", "b"]
    report = fairness_report(frame, y, pred, "g", "multiclass")
    assert report.positive == "c" and "one-vs-rest" in report.notes[0]
    table = report.columns[0].table.set_index("group")
    # x: predicted c on 2/3 rows, the one real c found (tpr 1), one of two non-c called c (fpr 1/2)
    # y: predicted c on 1/4 rows, no real c (tpr undefined), one of four non-c called c (fpr 1/4)
    assert table.loc["x", ["selection_rate", "tpr", "fpr"]].tolist() == pytest.approx([2 / 3, 1.0, 0.5])
    assert table.loc["y", ["selection_rate", "fpr"]].tolist() == pytest.approx([0.25, 0.25])
    assert np.isnan(table.loc["y", "tpr"])
    gaps = report.columns[0].gaps
    assert gaps["tpr_gap"] is None and gaps["equalized_odds_difference"] == pytest.approx(0.25)


def test_numbers_are_banded_and_missing_values_are_a_group():
    titanic = pd.read_csv(SAMPLES / "titanic.csv")
    labels, note = group_labels(titanic["Age"])
    assert "4 quantile bands" in note and labels.nunique() == 5  # four bands and "(missing)"
    assert (labels == "(missing)").sum() == titanic["Age"].isna().sum() == 177
    assert labels[labels != "(missing)"].value_counts().max() < 0.3 * titanic["Age"].notna().sum()
    few, note = group_labels(titanic["Pclass"])
    assert note == "" and sorted(few.unique()) == ["1", "2", "3"]
    candidates = sensitive_candidates(titanic)
    assert {"Sex", "Pclass", "Age"} <= set(candidates) and "Name" not in candidates


def test_gaps_equal_fairlearn_on_real_predictions():
    d, model, X_te, y_te = fitted(DATA / "credit-g.csv", "class", LogisticRegression(max_iter=2000))
    pred = model.predict(X_te)
    report = fairness_report(X_te, y_te, pred, ["personal_status", "age"], "binary", positive="bad")
    for col in report.columns:
        groups, _ = group_labels(X_te[col.column].reset_index(drop=True))
        truth, said = y_te.to_numpy() == "bad", pred == "bad"
        assert col.gaps["demographic_parity_difference"] == pytest.approx(
            demographic_parity_difference(truth, said, sensitive_features=groups))
        assert col.gaps["equalized_odds_difference"] == pytest.approx(
            equalized_odds_difference(truth, said, sensitive_features=groups))
        assert col.table["count"].sum() == len(y_te)
    figures = fairness_figures(report)
    assert set(figures) == {"personal_status", "age"}
    for col in report.columns:
        fig = figures[col.column]
        assert len(fig.data) == len(col.table)  # one bar series per group
        assert list(fig.data[0].x) == ["Selection rate", "Accuracy", "True positive rate", "False positive rate"]
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text and fig.layout.title.text


def test_experiment_fairness_uses_the_saved_threshold(tmp_path):
    exp, _, _ = make_experiment(tmp_path, SAMPLES / "titanic.csv", "Survived", LogisticRegression(max_iter=2000))
    assert exp.meta["positive_class"] == 1
    before = experiment_fairness(exp, ["Sex", "Age"])
    assert [c.column for c in before.columns] == ["Sex", "Age"]
    sex = before.columns[0].table.set_index("group")
    assert sex.loc["female", "selection_rate"] > sex.loc["male", "selection_rate"]
    assert any("Sex" in w for w in before.warnings)
    save_threshold(exp, 0.2)
    after = experiment_fairness(exp, "Sex").columns[0].table.set_index("group")
    assert (after["selection_rate"] >= sex["selection_rate"]).all()
    with pytest.raises(AutoMLError, match="not in the held-out rows"):
        experiment_fairness(exp, ["Gender"])
    regression = fairness_report(pd.DataFrame({"g": ["a", "b"] * 10}), np.arange(20.0), np.arange(20.0), "g",
                                 "regression")
    fig = fairness_figures(regression)["g"]
    assert len(fig.data) == 2 and fig.layout.yaxis.title.text == "Value"
