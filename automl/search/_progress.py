"""Progress of a running search: the study callback that writes progress.json and stops on time or cancel,
and the budget a cancel ends at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from automl import experiment as ex
from automl.algorithms import ALGORITHMS
from automl.experiment import Experiment
from automl.search._budget import Budget
from automl.search._leaderboard import counts, trial_rows

SEARCHING = "searching"
SEARCH_OVER = "refitting"  # the leader's phase once its search has ended: remote workers stop on it
CANCEL_GRACE_S = 10.0  # after a cancel, the refit of the best trial may take about this long


@dataclass
class CancellableBudget(Budget):
    """A :class:`Budget` that ``cancelled()`` ends at once: the search gets no more time (so a fit stops at its
    next clock check, e.g. LightGBM's next iteration), and the refit that follows gets ``grace_s`` seconds.

    Without it a cancel waited for the current fold, which on a large table is most of a minute.
    """

    cancelled: Callable[[], bool] = field(default=lambda: False, repr=False)
    grace_s: float = CANCEL_GRACE_S
    cancelled_at: float | None = None
    check_every_s: float = 0.2  # LightGBM asks the clock every iteration; the cancel flag is a stat (NFS: slow)
    _checked: float = field(default=-float("inf"), repr=False)

    def _stop_at(self) -> float | None:
        now = time.monotonic()
        if self.cancelled_at is None and now - self._checked >= self.check_every_s:
            self._checked = now
            if self.cancelled():
                self.cancelled_at = now
        return None if self.cancelled_at is None else self.cancelled_at + self.grace_s

    def remaining(self) -> float:
        left, stop_at = super().remaining(), self._stop_at()
        return left if stop_at is None else min(left, stop_at - time.monotonic())

    def search_remaining(self) -> float:
        return -1.0 if self._stop_at() is not None else super().search_remaining()

    def refit_affordable(self, fold_seconds: float, folds: int, n_rows: int) -> bool:
        """Whether refitting a trial whose folds took ``fold_seconds`` fits in the time left (the grace after
        a cancel)."""
        return self.refit_estimate(fold_seconds, folds, n_rows) <= max(self.remaining(), 0.0) + 1.0


class ProgressReporter:
    """Optuna callback: writes progress.json, calls the user's progress function, stops on time/cancel.

    Progress is written at most every ``every_s`` seconds: rebuilding it reads every trial back from
    the storage, which on a small table cost as much as the trial itself.
    """

    def __init__(self, exp: Experiment, budget: Budget, cv_folds: int, trial_budget: int | None,
                 progress: Callable[[dict[str, Any]], None] | None, greater_is_better: bool, rows: int,
                 every_s: float = 1.0) -> None:
        self.exp, self.budget, self.progress = exp, budget, progress
        self.cv_folds, self.trial_budget, self.rows = cv_folds, trial_budget, rows
        self.greater, self.every_s, self.last = greater_is_better, every_s, -float("inf")

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.state == optuna.trial.TrialState.COMPLETE and trial.number == _best_number(study):
            algo = ALGORITHMS.get(trial.user_attrs.get("algorithm"))
            save_s = algo.save_estimate(trial.user_attrs.get("params") or {}) if algo else 0.0
            self.budget.reserve_for_refit(trial.user_attrs.get("fold_seconds", 0.0), self.cv_folds,
                                          self.rows, save_s=save_s)
        if time.monotonic() - self.last >= self.every_s:
            self.report(study)
        if self.exp.cancel_requested or self.budget.search_remaining() <= 0:
            study.stop()

    def report(self, study: optuna.Study, phase: str = SEARCHING) -> None:
        self.last = time.monotonic()
        trials = trial_rows(study.get_trials(deepcopy=False))
        done = trials[trials["state"] == "complete"]
        best = None
        if len(done):
            best = done.sort_values("score", ascending=not self.greater).iloc[0]
        info = {
            "phase": phase, **counts(trials), "elapsed_s": round(self.budget.elapsed(), 2),
            "budget_s": self.budget.total_s, "trial_budget": self.trial_budget,
            "remaining_s": None if self.budget.total_s is None else round(max(self.budget.remaining(), 0), 2),
            "best_score": None if best is None else float(best["score"]),
            "best_algorithm": None if best is None else best["algorithm"], "updated": ex.now_iso(),
        }
        self.exp.write_json(ex.PROGRESS, info)
        if self.progress:
            self.progress(info)


def _best_number(study: optuna.Study) -> int | None:
    try:
        return study.best_trial.number
    except ValueError:
        return None
