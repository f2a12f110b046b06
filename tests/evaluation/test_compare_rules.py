"""Compare: formatted numbers, the better value marked by each metric's direction, refusals, failed runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA, SAMPLES
from heldout_helpers import make_experiment
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, Ridge

from automl.evaluation import BEST_MARK, compare, evaluate_experiment, format_interval, format_metric
from automl.experiment import Experiment, Workspace
from automl.metrics import METRICS


@pytest.mark.parametrize(("value", "text"), [
    (0.8101828597522204, "0.8102"), (0.009868268747377519, "0.0099"), (543.2123, "543.2"), (12.3456, "12.35"),
    (1.0, "1.000"), (0.0, "0.0000"), (27_654.321, "27,654"), (1_234_567.8, "1,234,568"), (-0.1234567, "-0.1235"),
    (0.000012345, "1.23e-05"), (None, "n/a"), (float("nan"), "n/a"), (float("inf"), "n/a")])
def test_format_metric(value, text):
    assert format_metric(value) == text


def test_format_interval():
    assert format_interval((512.0612, 574.8731)) == "512.1 – 574.9"
    assert format_interval(None) == ""


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Two binary experiments (a real model and a constant one), a regression one and a failed one."""
    root = tmp_path_factory.mktemp("compare-ws")
    good, _, _ = make_experiment(root, DATA / "credit-g.csv", "class", LogisticRegression(max_iter=2000))
    weak, _, _ = make_experiment(root, DATA / "credit-g.csv", "class", DummyClassifier(strategy="prior"))
    other_target, _, _ = make_experiment(root, DATA / "credit-g.csv", "foreign_worker",
                                         LogisticRegression(max_iter=2000))
    regression, _, _ = make_experiment(root, SAMPLES / "ames-house-prices.csv", "SalePrice", Ridge())
    failed = Workspace(root).create(name="broken", status="failed", task="binary", target="class",
                                    error="the table could not be read")
    for exp, name in ((good, "logistic"), (weak, "constant"), (other_target, "foreign"), (regression, "prices")):
        exp.update(name=name)
    return {"good": good, "weak": weak, "other_target": other_target, "regression": regression, "failed": failed}


def test_the_better_value_is_marked_by_each_metrics_direction(ws):
    good, weak = ws["good"], ws["weak"]
    result = compare(good, weak)
    assert result.refused is None and result.notes == []
    table, values = result.holdout, result.values
    a, b = result.names
    assert a.startswith("logistic (") and b.startswith("constant (")
    # higher is better: the real model wins ROC AUC; lower is better: it also wins log loss and Brier
    for metric in ("roc_auc", "log_loss", "brier"):
        assert table.loc[metric, a].endswith(BEST_MARK) and not table.loc[metric, b].endswith(BEST_MARK)
        assert table.loc[metric, "best"] == a
    assert values.loc["log_loss", a] < values.loc["log_loss", b]  # the mark went to the smaller log loss
    # on every row the mark follows the numbers and the metric's direction, never the column order
    for metric in values.index:
        va, vb = values.loc[metric]
        if table.loc[metric, "best"] in (a, b):
            assert (table.loc[metric, "best"] == a) == ((va > vb) == METRICS[metric].greater_is_better)
    # the same figures the experiment's own evaluation stores, written the same way
    stored = evaluate_experiment(good)
    for metric, value in stored.metrics.items():
        assert table.loc[metric, a].removesuffix(BEST_MARK) == format_metric(value)
        assert values.loc[metric, a] == value
    assert table.loc["interval", a] == format_interval(stored.interval)
    assert table.loc["roc_auc", "metric"] == "ROC AUC"  # labels, not registry names
    assert "0.8101828597522204" not in table.to_string()
    assert all(len(text.split(".")[-1].removesuffix(BEST_MARK)) <= 4 for text in table[a] if "." in text
               and "–" not in text)


def _copy(exp, tmp_path):
    return Experiment(Path(shutil.copytree(exp.path, tmp_path / f"copy{exp.id}")))


def test_a_copy_ties_everywhere_and_an_experiment_is_not_compared_with_itself(ws, tmp_path):
    result = compare(ws["good"], _copy(ws["good"], tmp_path))
    rows = result.holdout.drop(index="interval")
    assert set(rows["best"]) == {"tie"} and not rows[result.names[0]].str.endswith(BEST_MARK).any()
    assert "pick two different" in compare(ws["good"], ws["good"]).refused


def test_large_errors_get_thousands_separators(ws, tmp_path):
    result = compare(ws["regression"], _copy(ws["regression"], tmp_path))
    rmse = result.values.loc["rmse"].iloc[0]
    assert rmse > 1000 and result.holdout.loc["rmse"].iloc[1] == f"{rmse:,.0f}"


@pytest.mark.parametrize(("other", "words"), [("regression", ["binary", "regression", "'SalePrice'"]),
                                               ("other_target", ["'class'", "'foreign_worker'"])])
def test_different_tasks_or_targets_are_refused_with_one_sentence(ws, other, words):
    result = compare(ws["good"], ws[other])
    assert result.refused and result.refused.count(". ") == 0 and result.refused.endswith(".")
    assert "can't be compared" in result.refused and all(w in result.refused for w in words)
    assert result.holdout.empty and result.values.empty


def test_a_failed_experiment_is_shown_as_failed_not_compared(ws):
    good, failed = ws["good"], ws["failed"]
    result = compare(good, failed)
    assert result.refused is None
    a, b = result.names
    assert result.summary.loc["status", b] == "failed"
    assert len(result.notes) == 1 and "failed" in result.notes[0] and "could not be read" in result.notes[0]
    assert (result.holdout[b] == "—").all() and result.values[b].isna().all()
    assert not result.holdout[a].str.endswith(BEST_MARK).any() and set(result.holdout["best"]) == {""}
    assert result.holdout.loc["roc_auc", a] == format_metric(evaluate_experiment(good).metrics["roc_auc"])
    # a failed run that never read its table (no task yet) is shown as failed too, never refused
    early = Workspace(good.path.parent).create(name="early", status="failed", error="no such file")
    assert compare(early, good).refused is None and "failed" in compare(early, good).notes[0]
