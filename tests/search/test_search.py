"""The search end to end: budgets, reproducibility, saved models on raw rows, every algorithm."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, SAMPLES

import automl
from automl.algorithms import ALGORITHMS
from automl.errors import AutoMLError
from automl.experiment import Workspace, load_model_file
from automl.search import load_trials


def test_completed_experiment_folder(trained_titanic):
    exp = trained_titanic
    meta = exp.meta
    assert meta["status"] == "completed" and meta["task"] == "binary" and meta["metric"] == "roc_auc"
    for key in ("id", "name", "created", "target", "schema", "config", "best", "leaderboard", "holdout",
                "timing", "versions"):
        assert key in meta
    assert set(meta["best"]) >= {"algorithm", "params", "cv_score"}
    assert 0.75 < meta["holdout"]["roc_auc"] <= 1.0
    assert all(v is not None for v in meta["holdout"].values())  # integer labels score like strings
    assert exp.has_model and (exp.path / "study.db").exists()
    hold = exp.holdout()
    assert len(hold) == meta["rows"]["holdout"] == 179
    assert {"prediction", "proba_0", "proba_1"} <= set(hold.columns)
    # the held-out rows are never in the training rows
    assert not set(hold["PassengerId"]) & set(exp.train_frame()["PassengerId"])
    trials = load_trials(exp.storage_url, exp.id)
    assert (trials["state"] == "complete").sum() >= 5
    # the algorithms' defaults were tried first, in registry order
    first = trials.sort_values("trial")["algorithm"].tolist()[:3]
    assert first == ["lightgbm", "lightgbm", "hist_gradient_boosting"]


def test_saved_model_predicts_raw_rows_with_unseen_categories_and_missing(trained_titanic, titanic):
    model = load_model_file(trained_titanic.model_path)
    rows = titanic.drop(columns=["Survived"]).head(20).astype({"Age": object})
    rows.loc[0, "Embarked"] = "Atlantis"  # never seen
    rows.loc[1, "Sex"] = "unknown"
    rows.loc[2, ["Age", "Fare"]] = np.nan
    rows.loc[3, "Age"] = "forty"  # unparsable number: treated as missing
    rows["extra"] = 1  # extra columns are ignored
    proba = model.predict_proba(rows)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(model.predict(rows)) <= {0, 1}


def test_missing_column_at_predict_time_is_named(trained_titanic, titanic):
    model = trained_titanic.load_model()
    with pytest.raises(AutoMLError, match="Age"):
        model.predict(titanic.drop(columns=["Survived", "Age"]))


def test_same_seed_same_leaderboard(tmp_path):
    runs = [automl.fit(DATA / "credit-g.csv", "class", trials=10, seed=3, workspace=tmp_path / str(i),
                       ensemble=False) for i in range(2)]
    boards = [pd.DataFrame(r.meta["leaderboard"])[["trial", "algorithm", "score", "params"]] for r in runs]
    pd.testing.assert_frame_equal(boards[0], boards[1])
    other = automl.fit(DATA / "credit-g.csv", "class", trials=10, seed=4, workspace=tmp_path / "other",
                       ensemble=False)
    assert pd.DataFrame(other.meta["leaderboard"])["score"].tolist() != boards[0]["score"].tolist()


@pytest.mark.slow
def test_time_budget_is_kept(tmp_path):
    start = time.monotonic()
    exp = automl.fit(DATA / "phoneme.csv", "Class", time_budget=12, workspace=tmp_path)
    wall = time.monotonic() - start
    assert wall <= 12 * 1.1 + 5
    assert exp.meta["timing"]["trials"] >= 3


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_algorithm_trains_and_predicts(name, tmp_path):
    algo = ALGORITHMS[name]
    path, target = ((SAMPLES / "car-evaluation.csv", "class") if "multiclass" in algo.tasks
                    else (SAMPLES / "ames-house-prices.csv", "SalePrice"))
    if name in ("ridge", "elastic_net"):
        path, target = SAMPLES / "ames-house-prices.csv", "SalePrice"
    exp = automl.fit(path, target, trials=2, algorithms=[name], workspace=tmp_path, ensemble=False, cv_folds=3)
    assert exp.meta["best"]["algorithm"] == name
    hold = exp.holdout()
    assert hold["prediction"].notna().all()
    score = exp.meta["holdout"]["log_loss" if exp.meta["task"] == "multiclass" else "r2"]
    assert (score < 1.0) if exp.meta["task"] == "multiclass" else (score > 0.5)


def test_regression_with_dates(tmp_path):
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-01", periods=400, freq="D")
    frame = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "x": rng.normal(size=400)})
    frame["y"] = days.dayofweek * 3 + frame["x"] + rng.normal(scale=0.1, size=400)
    exp = automl.fit(frame, "y", trials=4, workspace=tmp_path, algorithms=["lightgbm"])
    assert exp.meta["holdout"]["r2"] > 0.9  # weekday comes from the date parts


def test_bad_options_are_named(tmp_path, credit_path):
    with pytest.raises(AutoMLError, match="metric 'rmse' does not apply"):
        automl.fit(credit_path, "class", trials=1, metric="rmse", workspace=tmp_path)
    with pytest.raises(AutoMLError, match="Unknown algorithm"):
        automl.fit(credit_path, "class", trials=1, algorithms=["xgboost"], workspace=tmp_path)
    with pytest.raises(AutoMLError, match="'time_budget' parameter of fit must be a finite number > 0"):
        automl.fit(credit_path, "class", time_budget=-1, workspace=tmp_path)
    statuses = Workspace(tmp_path).summaries()["status"].tolist()
    assert statuses and set(statuses) == {"failed"}


def test_cancel_keeps_best_so_far_and_resume_continues(tmp_path, credit_path):
    ws = Workspace(tmp_path)
    exp = ws.create(name="to-cancel")

    def cancel_after_three(info):
        if info["complete"] >= 3:
            exp.request_cancel()

    automl.fit(credit_path, "class", trials=40, workspace=tmp_path, experiment=exp, progress=cancel_after_three)
    meta = exp.meta
    assert meta["status"] == "cancelled"
    assert 3 <= meta["timing"]["trials"] < 40
    assert exp.load_model().predict(exp.holdout().drop(columns=["class"])).shape == (200,)
    before = meta["timing"]["trials"]
    exp.file("cancel.flag").unlink()
    automl.resume(exp, trials=4)
    assert exp.meta["status"] == "completed"
    assert exp.meta["timing"]["trials"] == before + 4


def test_folds_follow_the_table_size(tmp_path):
    """5 folds on small tables, 3 above 10,000 training rows (cheaper trials); an explicit choice wins."""
    from automl.api import AUTO_FOLDS_ROWS, auto_folds

    assert auto_folds(AUTO_FOLDS_ROWS) == 5 and auto_folds(AUTO_FOLDS_ROWS + 1) == 3
    rng = np.random.default_rng(0)
    n = 13_000
    frame = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abc"), n)})
    frame["y"] = (frame["x"] + (frame["c"] == "a") + rng.normal(size=n) > 0.5).astype(int)
    big = automl.fit(frame, "y", trials=1, algorithms=["lightgbm"], workspace=tmp_path, ensemble=False)
    assert big.meta["config"]["cv_folds"] == 3
    import optuna

    trial = optuna.load_study(study_name=big.id, storage=big.storage_url).trials[0]
    assert len(trial.user_attrs["fold_scores"]) == 3
    chosen = automl.fit(frame.head(2000), "y", trials=1, algorithms=["lightgbm"], workspace=tmp_path, cv_folds=4)
    assert chosen.meta["config"]["cv_folds"] == 4


@pytest.mark.parametrize("better_trial_exists", [False, True])
def test_a_trial_the_budget_stops_after_two_folds_keeps_its_partial_score(better_trial_exists):
    """Stopped by time after 2 of 5 folds: scored on those (flagged), unless a complete trial is better."""
    import optuna

    from automl.data import prepare_dataset
    from automl.metrics import get_metric
    from automl.search import Budget, Objective, SearchSpace

    ds = prepare_dataset(pd.read_csv(DATA / "credit-g.csv"), "class")
    space = SearchSpace(X=ds.X, y=ds.y, schema=ds.schema, task="binary", metric=get_metric("roc_auc", "binary"),
                        algorithms=[ALGORITHMS["logistic_regression"]], classes=["bad", "good"], positive="good")
    checks: list[int] = []

    def third_fold_runs_out() -> bool:
        checks.append(1)
        if len(checks) == 3:  # before the third fold: 0.05 s left for the search, plenty for a refit
            objective.budget = Budget(100.0, refit_reserve_s=99.95)
        return False

    objective = Objective(space, Budget(None), should_stop=third_fold_runs_out)
    study = optuna.create_study(direction="maximize")
    if better_trial_exists:
        study.add_trial(optuna.trial.create_trial(params={"algorithm": "logistic_regression"}, value=0.999,
                                                  distributions={"algorithm": optuna.distributions.
                                                                 CategoricalDistribution(["logistic_regression"])}))
    study.enqueue_trial({"algorithm": "logistic_regression"}, user_attrs={"default": 0})
    study.optimize(objective, n_trials=1)
    trial = study.trials[-1]
    scores = trial.user_attrs["fold_scores"]
    assert len(scores) == 2
    if better_trial_exists:
        assert trial.state == optuna.trial.TrialState.PRUNED
    else:
        assert trial.state == optuna.trial.TrialState.COMPLETE
        assert trial.value == pytest.approx(np.mean(scores))
        assert trial.user_attrs["stopped"] == "time budget: scored on 2 of 5 folds"
        assert trial.number not in objective.oof  # incomplete out-of-fold predictions never reach the ensemble


def _credit_objective(budget=None):
    from automl.data import prepare_dataset
    from automl.metrics import get_metric
    from automl.search import Budget, Objective, SearchSpace

    ds = prepare_dataset(pd.read_csv(DATA / "credit-g.csv"), "class")
    space = SearchSpace(X=ds.X, y=ds.y, schema=ds.schema, task="binary", metric=get_metric("roc_auc", "binary"),
                        algorithms=[ALGORITHMS[n] for n in ("lightgbm", "logistic_regression", "random_forest")],
                        classes=["bad", "good"], positive="good")
    return Objective(space, budget or Budget(None), schedule=None)


def test_each_algorithms_best_oof_is_kept_for_the_ensemble():
    """Eleven better LightGBM trials (twelve trials, ten kept) do not push out the one logistic regression."""
    from automl.search import OOF_KEPT

    objective = _credit_objective()
    y = np.zeros(len(objective.y))
    objective._keep_oof(0, 0.70, y, "logistic_regression", 1.0)
    for n in range(1, OOF_KEPT + 2):
        objective._keep_oof(n, 0.80 + n / 100, y, "lightgbm", 1.0)
    assert len(objective.oof) == OOF_KEPT and 0 in objective.oof
    assert {1, 2}.isdisjoint(objective.oof) and 3 in objective.oof  # the two worst LightGBMs made room


@pytest.mark.parametrize("seconds_left,members", [(60.0, 3), (5.0, 2), (3.0, 0)])
def test_the_ensemble_is_trimmed_to_the_refit_time_left(seconds_left, members):
    """Three complementary members need ~5.7 s to refit (1 s folds); with 5 s two of them, with 3 s none."""
    import json

    from automl.final._finalize import _choose_model
    from automl.search import Budget

    objective = _credit_objective(Budget(seconds_left))
    y = (objective.y == "good").astype(float)
    rng = np.random.default_rng(0)
    names = ["lightgbm", "logistic_regression", "random_forest"]
    board = []
    for n, name in enumerate(names):  # three equally good, independent noisy views of the target
        p = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(scale=1.2, size=len(y)))))
        score = objective._score(objective.y, np.column_stack([1 - p, p]))
        objective._keep_oof(n, score, np.column_stack([1 - p, p]), name, 1.0)
        board.append({"trial": n, "algorithm": name, "score": score, "params": json.dumps({})})
    board = pd.DataFrame(board).sort_values("score", ascending=False)
    config = automl.api.FitConfig(target="class", cv_folds=5)
    model, info, note, chosen = _choose_model(objective, objective.space, board, objective.budget, config,
                                              objective.space.X, objective.space.y)
    if members:
        assert note is None and len(info["members"]) == members == len(chosen)
        assert info["oof_score"] > info["best_single_oof"]
        assert model.predict_proba(objective.space.X.head(5)).shape == (5, 2)
    else:
        assert model is None and info is None and "would need" in note and chosen == []


def test_the_refit_gets_the_threads_the_search_gave():
    """One thread policy in the registry: a small table is refit single-threaded, as its folds were fitted."""
    from automl.final import fit_final

    objective = _credit_objective()
    space = objective.space
    for name in ("random_forest", "logistic_regression"):
        model = fit_final(space, objective, name, dict(ALGORITHMS[name].defaults[0]), space.X, space.y)
        assert ALGORITHMS[name].threads(len(space.y)) == 1
        assert model[-1].get_params().get("n_jobs", 1) == 1
        assert model.predict_proba(space.X.head(3)).shape == (3, 2)


STARTED = """
import time
time.sleep(1.5)  # a slow start: what an interpreter and its imports cost a command
from automl.search import process_started
print(time.monotonic() - process_started())
"""


def test_a_commands_budget_counts_from_its_process_start_up_to_a_cap(tmp_path):
    import subprocess
    import sys
    import time

    from automl.search import process_started
    from automl.search._budget import STARTUP_COUNTED_S

    out = subprocess.run([sys.executable, "-c", STARTED], capture_output=True, text=True, timeout=120)
    age = float(out.stdout.strip())
    assert 1.5 <= age <= STARTUP_COUNTED_S, out.stderr
    # this test process has lived longer than the cap: its budget would count the cap, never its whole life
    assert time.monotonic() - process_started() <= STARTUP_COUNTED_S + 0.5
