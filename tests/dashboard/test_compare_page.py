"""The Experiments page compares two experiments: formatted figures, the better one starred, refusals, failed runs."""

from __future__ import annotations

import pytest
from conftest import DATA, ROOT, SAMPLES
from heldout_helpers import make_experiment
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from streamlit.testing.v1 import AppTest

from automl.evaluation import BEST_MARK, evaluate_experiment, format_metric
from automl.experiment import Workspace

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare-page-ws")
    good, _, _ = make_experiment(root, DATA / "credit-g.csv", "class", LogisticRegression(max_iter=2000))
    weak, _, _ = make_experiment(root, DATA / "credit-g.csv", "class", DummyClassifier(strategy="prior"))
    prices, _, _ = make_experiment(root, SAMPLES / "ames-house-prices.csv", "SalePrice", Ridge())
    failed = Workspace(root).create(name="broken run", status="failed", task="binary", target="class",
                                    error="the table could not be read")
    for exp, name in ((good, "logistic"), (weak, "constant"), (prices, "prices")):
        exp.update(name=name)
    return {"root": root, "good": good, "weak": weak, "prices": prices, "failed": failed}


def compare_page(ws, monkeypatch, first: str, second: str) -> AppTest:
    monkeypatch.setenv("AUTOML_WORKSPACE", str(ws["root"]))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/experiments.py")
    at.run()
    at.selectbox(key="cmp_a").set_value(ws[first].id)
    at.selectbox(key="cmp_b").set_value(ws[second].id)
    at.run()
    assert not at.exception
    return at


def metrics_table(at: AppTest):
    tables = [d.value for d in at.dataframe if "best" in d.value.columns]
    return tables[0] if tables else None


def test_two_experiments_side_by_side_with_the_better_value_starred(ws, monkeypatch):
    at = compare_page(ws, monkeypatch, "good", "weak")
    table = metrics_table(at)
    good_col = next(c for c in table.columns if c.startswith("logistic ("))
    weak_col = next(c for c in table.columns if c.startswith("constant ("))
    rows = table.set_index("metric")
    assert rows.loc["ROC AUC", good_col].endswith(BEST_MARK) and rows.loc["ROC AUC", "best"] == good_col
    assert rows.loc["Log loss", good_col].endswith(BEST_MARK)  # lower is better, and it is lower
    assert not rows.loc["ROC AUC", weak_col].endswith(BEST_MARK)
    stored = evaluate_experiment(ws["good"])
    assert rows.loc["Accuracy", good_col].removesuffix(BEST_MARK) == format_metric(stored.metrics["accuracy"])
    assert not any(len(v.removesuffix(BEST_MARK)) > 12 for v in table[good_col] if "–" not in v)  # no raw floats
    assert any("★ marks the better value" in c.value for c in at.caption)


def test_different_tasks_are_refused_in_one_sentence(ws, monkeypatch):
    at = compare_page(ws, monkeypatch, "good", "prices")
    assert metrics_table(at) is None
    refusal = [w.value for w in at.warning if "can't be compared" in w.value]
    assert len(refusal) == 1 and "binary" in refusal[0] and "regression" in refusal[0]


def test_a_failed_experiment_is_shown_failed_without_metrics(ws, monkeypatch):
    at = compare_page(ws, monkeypatch, "good", "failed")
    table = metrics_table(at)
    failed_col = next(c for c in table.columns if c.startswith("broken run ("))
    assert (table[failed_col] == "—").all() and not table.drop(columns=[failed_col]).stack().str.contains("★").any()
    assert any("failed" in w.value and "could not be read" in w.value for w in at.warning)
