"""How one trial is scored: K-fold cross-validation, or fits on growing row samples (large tables).

Both are mixed into :class:`automl.search.Objective`, which gives them the fitting, scoring
and clock pieces they share (``_timed_fit_predict``, ``_score``, ``_check_time``, ``_record_time``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import optuna

from automl.algorithms import Algorithm
from automl.search._fit_pool import FitPool, fit_workers

if TYPE_CHECKING:
    from automl.search._objective import Objective


class CrossValidation:
    """Scores a trial by K-fold CV, reporting after every fold so the pruner stops bad ones early."""

    def _cross_validate(self: Objective, trial: optuna.Trial, algo: Algorithm, params: dict) -> float:
        task = self.space.task
        oof = np.zeros((len(self.y), len(self.space.classes))) if task != "regression" else np.zeros(len(self.y))
        scores, seconds = [], []
        width = self.fold_width(algo)
        if width > 1:  # what folds share is built once, before the threads
            _ = self.tree_matrix if algo.preprocessing.encode_once else self.X_coerced
        folds = FitPool(width).run(self.folds, lambda: self._check_time(trial, algo, params, seconds),
                                    lambda tr, va: self._timed_fit_predict(trial, algo, params, tr, va, width > 1))
        pruned_after = None
        try:
            with warnings.catch_warnings():  # one per process: here, around the folds, not inside their threads
                warnings.simplefilter("ignore")
                for k, (pred, took) in folds:
                    va = self.folds[k][1]
                    seconds.append(took)
                    oof[va] = pred
                    scores.append(self._score(self.y[va], pred))
                    trial.report(float(np.mean(scores)), k)
                    trial.set_user_attr("fold_scores", scores)
                    if trial.should_prune():
                        pruned_after = k
                        break
        except optuna.TrialPruned:
            if not self._worth_keeping(trial, scores, seconds):
                raise
            return self._partial_value(trial, algo, params, scores, seconds)
        finally:
            folds.close()  # a pruned trial's running folds are waited for, the others never start
        if pruned_after is not None:
            self._record_time(algo, params, seconds)
            trial.set_user_attr("fit_time", float(np.sum(seconds)))
            raise optuna.TrialPruned(f"pruned after fold {pruned_after + 1}")
        self._record_time(algo, params, seconds)
        trial.set_user_attr("params", self.found_params(trial, algo, params))
        mean = float(np.mean(scores))
        trial.set_user_attr("cv_std", float(np.std(scores)))
        trial.set_user_attr("fit_time", float(np.sum(seconds)))
        trial.set_user_attr("fold_seconds", float(np.mean(seconds)))
        self._keep_oof(trial.number, mean, oof, algo.name, float(np.mean(seconds)),
                       algo.save_estimate(params, len(self.space.classes)))
        return mean

    def fold_width(self: Objective, algo: Algorithm) -> int:
        """Folds fitted at once: one per core when one fit gets a single thread (small tables) and the algorithm
        fits well beside itself (``side_by_side``), else 1; workers sharing a machine (``n_jobs``) fit one at a time."""
        n_fit = len(self.folds[0][0]) if self.folds else 0
        if self.n_jobs is not None or not algo.side_by_side or algo.threads(n_fit) != 1:
            return 1
        return fit_workers(len(self.folds))

    def _worth_keeping(self: Objective, trial: optuna.Trial, scores: list[float], seconds: list[float]) -> bool:
        """A trial the time budget stopped after two or more folds, better than every complete trial so far,
        whose refit still fits in the budget: its partial mean is kept instead of throwing the work away."""
        if len(scores) < 2 or self.should_stop():
            return False
        refit = self.budget.refit_estimate(float(np.mean(seconds)), self.space.cv_folds, len(self.y))
        if refit > self.budget.remaining():
            return False
        try:
            best = trial.study.best_value
        except ValueError:  # no complete trial yet
            return True
        mean = float(np.mean(scores))
        return mean > best if self.space.metric.greater_is_better else mean < best

    def _partial_value(self: Objective, trial: optuna.Trial, algo: Algorithm, params: dict, scores: list[float],
                       seconds: list[float]) -> float:
        """The mean of the folds done, flagged in the leaderboard; no OOF predictions (they are incomplete)."""
        self._record_time(algo, params, seconds)
        trial.set_user_attr("params", self.found_params(trial, algo, params))
        trial.set_user_attr("stopped", f"time budget: scored on {len(scores)} of {len(self.folds)} folds")
        trial.set_user_attr("cv_std", float(np.std(scores)))
        trial.set_user_attr("fit_time", float(np.sum(seconds)))
        trial.set_user_attr("fold_seconds", float(np.mean(seconds)))
        return float(np.mean(scores))


class RowSamples:
    """Scores a trial on one validation part, fitting on nested row samples that grow while it stays good."""

    def _on_samples(self: Objective, trial: optuna.Trial, algo: Algorithm, params: dict) -> float:
        """Successive halving on rows: fit on each sample in turn, stop when the pruner says so.

        The value is the score of the fit on the whole pool, so completed trials compare fairly;
        a promising trial that the time budget stops before the whole pool keeps the score of
        its last sample (a pessimistic estimate) rather than being thrown away.
        """
        plan, va = self.plan, self.plan.validation
        scores: list[float] = []
        seconds: list[float] = []
        trial.set_user_attr("sample_schedule", [plan.rungs[0], plan.eta])
        for k, rows in enumerate(plan.rungs):
            expected = seconds[-1] * rows / plan.rungs[k - 1] if seconds else self._expected_fold_seconds(
                algo, params) * rows / 1e5
            # Completing on the whole pool may make this trial the best: its refit must fit too.
            extra = self._extra_refit(expected, rows) if k == len(plan.rungs) - 1 else 0.0
            try:
                self._check_time(trial, algo, params, [], expected=expected + extra)
                pred, took = self._timed_fit_predict(trial, algo, params, plan.sample(rows), va)
            except optuna.TrialPruned:
                done = plan.rungs[k - 1] if scores else 0
                affordable = done and self._extra_refit(seconds[-1], done) <= self.budget.search_remaining()
                if not affordable or self.should_stop():
                    raise
                trial.set_user_attr("stopped", f"time budget: scored on {done:,} rows")
                return self._sampled_value(trial, algo, params, scores, seconds, done)
            seconds.append(took)
            scores.append(self._score(self.y[va], pred))
            last = pred
            trial.set_user_attr("rows", rows)
            trial.set_user_attr("sample_scores", [[r, s] for r, s in zip(plan.rungs, scores)])
            trial.report(scores[-1], rows)
            if k < len(plan.rungs) - 1 and trial.should_prune():
                self._record_time(algo, params, [took * 1e5 / rows])
                trial.set_user_attr("fit_time", float(np.sum(seconds)))
                trial.set_user_attr("stopped", f"pruned on a sample of {rows:,} rows")
                raise optuna.TrialPruned(f"pruned on a sample of {rows:,} rows")
        value = self._sampled_value(trial, algo, params, scores, seconds, plan.rungs[-1])
        # Fitted on the whole pool: its validation predictions are this trial's candidate for the ensemble,
        # which is then chosen on the validation rows (as AutoGluon's is on its hold-out).
        self._keep_oof(trial.number, value, last, algo.name, trial.user_attrs["fold_seconds"],
                       algo.save_estimate(params, len(self.space.classes)))
        return value

    def _extra_refit(self: Objective, seconds: float, rows: int) -> float:
        """How much the refit reserve would grow if a config fitting ``rows`` rows in ``seconds`` won."""
        n_train, folds = len(self.y), self.space.cv_folds
        refit = self.budget.refit_estimate(seconds * n_train * (folds - 1) / folds / rows, folds, n_train)
        return max(refit - self.budget.refit_reserve_s, 0.0)

    def _sampled_value(self: Objective, trial: optuna.Trial, algo: Algorithm, params: dict, scores: list[float],
                       seconds: list[float], rows: int) -> float:
        self._record_time(algo, params, [seconds[-1] * 1e5 / rows])
        found = self.found_iterations.get(trial.number)
        if found:  # the rounds found on the largest sample fitted, not the mean over the smaller ones
            self.found_iterations[trial.number] = found[-1:]
        trial.set_user_attr("params", self.found_params(trial, algo, params))
        trial.set_user_attr("fit_time", float(np.sum(seconds)))
        # What one CV fold of the usual kind would take: the refit reserve is computed from it.
        n_train, folds = len(self.y), self.space.cv_folds
        trial.set_user_attr("fold_seconds", float(seconds[-1] * n_train * (folds - 1) / folds / rows))
        trial.set_user_attr("validation_rows", self.plan.n_val)
        return scores[-1]
