"""The benchmark's scoring and summary code, on real predictions that take a second to make."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from sklearn import metrics as skm

from bench import common, quality


@pytest.fixture(scope="module")
def credit_dir(tmp_path_factory):
    """A one-dataset manifest over tests/fixtures/credit-g.csv."""
    folder = tmp_path_factory.mktemp("bench-data")
    shutil.copy(DATA / "credit-g.csv", folder / "credit-g.csv")
    (folder / "manifest.json").write_text(json.dumps(
        [{"name": "credit-g", "file": "credit-g.csv", "target": "class", "task": "binary", "rows": 1000}]))
    return folder


def test_split_is_fixed_per_seed_and_stratified(credit_dir):
    spec = common.manifest(credit_dir)[0]
    train, test = common.split(spec, credit_dir, 0)
    again, _ = common.split(spec, credit_dir, 0)
    other, _ = common.split(spec, credit_dir, 1)
    assert len(test) == 200 and train.index.equals(again.index) and not train.index.equals(other.index)
    assert (test["class"] == "bad").sum() == 60  # 30% of the test rows, as in the whole table


def test_scores_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 300)
    proba = rng.dirichlet(np.ones(3), 300)
    got = common.score("multiclass", y, proba, ["a", "b", "c"])
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=["a", "b", "c"]))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, np.array(["a", "b", "c"])[proba.argmax(1)]))
    yb = y[:200] == "a"
    got = common.score("binary", np.where(yb, "yes", "no"), proba[:200, :2], ["no", "yes"])
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(yb, proba[:200, 1]))
    values = rng.normal(size=50)
    assert common.score("regression", values, values + 1)["rmse"] == pytest.approx(1.0)
    # a model that never saw class "c" gets zeros there, rows renormalised
    aligned = common.align_proba(np.array([[0.2, 0.6]]), ["b", "a"], ["a", "b", "c"])
    assert aligned[0] == pytest.approx([0.75, 0.25, 0.0])


def test_ranks_put_failures_last_and_respect_direction():
    runs = pd.DataFrame({
        "dataset": ["d"] * 3 + ["r"] * 3, "seed": 0, "contender": ["x", "y", "z"] * 2,
        "status": ["ok", "ok", "error", "ok", "ok", "ok"], "metric": ["roc_auc"] * 3 + ["rmse"] * 3,
        "score": [0.8, 0.9, None, 3.0, 2.0, 2.0]})
    ranked = quality.ranks(runs).set_index(["dataset", "contender"])["rank"]
    assert ranked[("d", "y")] == 1 and ranked[("d", "x")] == 2 and ranked[("d", "z")] == 3
    assert ranked[("r", "y")] == ranked[("r", "z")] == 1.5 and ranked[("r", "x")] == 3
    table = quality.mean_rank(runs)
    assert table.loc["y", "mean_rank"] == 1.25 and table.loc["z", "failed"] == 1
    assert "| y | 1.25 | 2 | 0 |" in quality.to_md(table)


def test_real_runs_head_to_head_and_reports(credit_dir, tmp_path):
    """rf_default and lgbm_default in child processes, then every summary over their stored predictions."""
    spec = common.manifest(credit_dir)[0]
    rows = [quality.run_one(spec, c, 0, 5.0, credit_dir, tmp_path) for c in ("rf_default", "lgbm_default")]
    assert all(r["status"] == "ok" for r in rows), rows
    assert all(r["peak_rss_mb"] > 50 for r in rows)
    runs = quality.typed(pd.DataFrame(rows))
    y, pred, classes = common.load_preds(common.preds_path(tmp_path, "credit-g", "rf_default", 0, 5.0))
    assert classes == ["bad", "good"] and pred.shape == (200, 2)
    assert runs.loc[0, "score"] == pytest.approx(skm.roc_auc_score(y == "good", pred[:, 1]))
    # the same predictions against themselves: a difference of 0, a tie
    diff, lo, hi = quality.boot_diff("binary", (y, pred, classes), (y, pred, classes))
    assert diff == lo == hi == 0
    table = quality.head_to_head(runs, tmp_path)
    won, tied, lost = map(int, table.loc["rf_default", "lgbm_default"].split("/"))
    assert won + tied + lost == 1 and table.loc["lgbm_default", "rf_default"] == f"{lost}/{tied}/{won}"
    quality.write_reports(runs, tmp_path, "q", "# test")
    text = (tmp_path / "q.md").read_text()
    assert "## Mean rank" in text and "credit-g" in text
    assert "RandomForestClassifier (defaults)" in text and "LGBMClassifier (defaults)" in text  # what each trained
    assert "plotly" in (tmp_path / "q.html").read_text().lower()
    rel = quality.relative(runs)
    assert rel["relative"].max() == pytest.approx(1.0) and (rel["relative"] <= 1.0).all()


def test_checks_flag_runs_far_from_a_known_level_or_under_half_the_budget():
    base = {"seed": 0, "status": "ok", "metric": "roc_auc", "budget_s": 60.0, "error": None, "extra": "{}",
            **{c: None for c in ("score2", "overrun_pct", "wall_s", "peak_rss_mb", "trials")}}
    runs = quality.typed(pd.DataFrame([
        {**base, "dataset": "adult", "contender": "autogluon", "score": 0.912, "fit_s": 58.0},  # bare install
        {**base, "dataset": "adult", "contender": "flaml", "score": 0.930, "fit_s": 20.0},  # stopped early
        {**base, "dataset": "adult", "contender": "lgbm_default", "score": 0.927, "fit_s": 2.0},  # not a searcher
        {**base, "dataset": "car-evaluation", "contender": "autogluon", "metric": "log_loss", "score": 0.01,
         "fit_s": 55.0}]))
    flagged = quality.checks(runs)
    assert len(flagged) == 2
    assert "autogluon on adult" in flagged[0] and "known level >= 0.925" in flagged[0]
    assert "flaml on adult" in flagged[1] and "under half" in flagged[1]
    healthy = quality.checks(runs.iloc[2:])
    assert healthy[0].startswith("- none")
