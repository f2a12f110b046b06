"""Folds side by side: results in fold order, a stop waits for the running folds, and a search scores the same
trials the same whether its folds run one at a time or together."""

from __future__ import annotations

import threading
import time

import optuna
import pytest
from conftest import DATA

from automl import fit
from automl.search import load_trials
from automl.search._fit_pool import WORKERS_ENV, FitPool, fit_workers


def test_two_folds_really_run_at_once_and_come_back_in_order():
    second_started = threading.Event()

    def fit(k: int) -> int:
        if k == 0:  # the first fold can only finish once the second has started beside it
            assert second_started.wait(timeout=30), "the folds ran one after the other"
            time.sleep(0.05)
        else:
            second_started.set()
        return k * 10

    assert list(FitPool(2).run([(0,), (1,), (2,)], lambda: None, fit)) == [(0, 0), (1, 10), (2, 20)]


def test_a_stop_before_a_fold_keeps_the_running_ones_then_raises():
    checks = []

    def before() -> None:
        checks.append(len(checks))
        if len(checks) == 3:
            raise optuna.TrialPruned("the next fold would overrun")

    got = []
    with pytest.raises(optuna.TrialPruned, match="overrun"):
        for k, _ in FitPool(2).run([(i,) for i in range(5)], before, lambda i: i):
            got.append(k)
    assert got == [0, 1]  # folds 0 and 1 were started and are given back; fold 2 never started


def test_closing_early_waits_for_the_running_fold_and_starts_no_more():
    started, finished = [], []

    def fit(k: int) -> int:
        started.append(k)
        time.sleep(0.2)
        finished.append(k)
        return k

    folds = FitPool(2).run([(i,) for i in range(5)], lambda: None, fit)
    assert next(folds) == (0, 0)
    folds.close()  # a pruned trial
    assert sorted(started) == sorted(finished) and len(started) <= 3  # nothing left running


def test_a_failing_fold_raises_its_own_error_in_order():
    def fit(k: int) -> int:
        if k == 1:
            raise ValueError("fold 1 broke")
        return k

    got = []
    with pytest.raises(ValueError, match="fold 1 broke"):
        for k, _ in FitPool(2).run([(i,) for i in range(4)], lambda: None, fit):
            got.append(k)
    assert got == [0]


def test_width_follows_the_cores_and_the_setting(monkeypatch):
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert fit_workers(5) == 1
    monkeypatch.setenv(WORKERS_ENV, "8")
    assert fit_workers(5) == 5


def test_a_search_scores_the_same_with_its_folds_side_by_side(tmp_path, monkeypatch):
    """Same seed, same trials: every trial's CV score is identical whether the folds run one by one or two at
    a time (the pool changes when a fold runs, never what it computes)."""
    scores = {}
    for width in ("1", "2"):
        monkeypatch.setenv(WORKERS_ENV, width)
        exp = fit(DATA / "credit-g.csv", "class", trials=8, seed=3, workspace=tmp_path / width, ensemble=False,
                  algorithms=["lightgbm", "random_forest", "logistic_regression"], refit_full=False)
        trials = load_trials(exp.storage_url, exp.id)
        scores[width] = trials.sort_values("trial")[["trial", "state", "score"]].round(10).to_dict("records")
    assert scores["1"] == scores["2"] and len(scores["1"]) == 8


def test_the_time_kept_for_the_finish_includes_writing_a_forest():
    """skops writes each tree of a forest as its own object (a titanic ensemble of forests took 5.9 s to save,
    against the 1 s once reserved): the reserve, and the finish's choices, count it."""
    from automl.algorithms import ALGORITHMS
    from automl.search import Budget

    forest, boosting = ALGORITHMS["random_forest"], ALGORITHMS["lightgbm"]
    assert forest.save_estimate({"n_estimators": 500}) > 4 * forest.save_estimate({"n_estimators": 50})
    assert boosting.save_estimate({"n_estimators": 3000}) == boosting.save_estimate({})  # one model string
    plain, saving = Budget(60.0), Budget(60.0)
    plain.reserve_for_refit(1.0, 5, 1000)
    saving.reserve_for_refit(1.0, 5, 1000, save_s=forest.save_estimate({"n_estimators": 500}))
    assert saving.refit_reserve_s - plain.refit_reserve_s == pytest.approx(forest.save_estimate({"n_estimators": 500}))
