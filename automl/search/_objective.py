"""The Optuna driver: one study chooses the algorithm and its hyperparameters together.

One trial = one algorithm + params, scored by K-fold CV on the training part
(the held-out split is never seen here). Each algorithm's known-good configs
are enqueued first; TPE then explores the conditional space. Trials report
after every fold so the pruner stops bad ones early, and a trial that would
run past the time budget is stopped. On large tables (see
:mod:`automl.sampling`) a trial is scored on one validation part instead,
fitting on row samples that grow while the trial stays promising.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from automl.algorithms import SMALL_ROWS, Algorithm, TimeUp, fit_within
from automl.data import Schema, build_preprocessor, make_coercer
from automl.metrics import Metric, Predictions, predictions_from_proba
from automl.search._budget import Budget
from automl.search._sampling import RowSchedule, tree_matrix
from automl.search._storage import make_study, study_strategies  # noqa: F401 - part of this module's API

OOF_KEPT = 10  # out-of-fold predictions kept for the ensemble: the best trials'
ENSEMBLE_RESERVE = 5  # the time kept for the final refit covers this many of the best trials


@dataclass
class SearchSpace:
    """What the search runs on: training rows, their schema, and the choices."""

    X: pd.DataFrame
    y: pd.Series
    schema: Schema
    task: str
    metric: Metric
    algorithms: list[Algorithm]
    classes: list = field(default_factory=list)
    positive: Any = None
    cv_folds: int = 5
    seed: int = 0


class PrefixedTrial:
    """A trial seen through one algorithm: its params are stored as ``<algorithm>:<name>``.

    Different algorithms may use the same name (``n_estimators``) with different
    ranges; the prefix keeps them apart in the study and in TPE's model.
    """

    def __init__(self, trial: optuna.Trial, prefix: str) -> None:
        self._trial, self._prefix = trial, prefix

    def suggest_int(self, name: str, *args, **kwargs) -> int:
        return self._trial.suggest_int(f"{self._prefix}:{name}", *args, **kwargs)

    def suggest_float(self, name: str, *args, **kwargs) -> float:
        return self._trial.suggest_float(f"{self._prefix}:{name}", *args, **kwargs)

    def suggest_categorical(self, name: str, choices):
        return self._trial.suggest_categorical(f"{self._prefix}:{name}", choices)


class Objective:
    """Scores one trial by cross-validation (or growing row samples); keeps the best trials' OOF predictions.

    ``schedule`` decides when row sampling replaces K-fold CV ("auto": :meth:`RowSchedule.from_env`;
    None: never);
    ``n_jobs`` caps the threads of one fit (workers sharing a machine use 1 each);
    ``refit_members``: how many of the best trials the time kept for the refit must cover (an ensemble's).
    """

    def __init__(self, space: SearchSpace, budget: Budget, should_stop: Callable[[], bool] = lambda: False,
                 schedule: RowSchedule | None | str = "auto", n_jobs: int | None = None,
                 refit_members: int = ENSEMBLE_RESERVE) -> None:
        self.space, self.budget, self.should_stop, self.n_jobs = space, budget, should_stop, n_jobs
        self.refit_members = refit_members
        self.stop_note = "cancelled"  # why should_stop() stopped a trial; a worker's leader may have finished
        self.algorithms = {a.name: a for a in space.algorithms}
        self.y = space.y.to_numpy()
        schedule = RowSchedule.from_env() if schedule == "auto" else schedule
        self.plan = schedule.plan(self.y, space.task, space.seed) if isinstance(schedule, RowSchedule) else None
        self.folds: list[tuple[np.ndarray, np.ndarray]] = []
        if self.plan is None:
            splitter = (KFold if space.task == "regression" else StratifiedKFold)(
                n_splits=space.cv_folds, shuffle=True, random_state=space.seed)
            self.folds = list(splitter.split(np.zeros(len(self.y)), self.y))
        else:
            self.y = self.y[self.plan.order]  # rows in plan order: every sample is a slice
        self._coercer = make_coercer(space.schema).fit(space.X)
        self._coerced: pd.DataFrame | None = None
        self._tree_matrix: np.ndarray | None = None
        self.oof: dict[int, np.ndarray] = {}
        self.oof_scores: dict[int, float] = {}
        self.oof_algorithms: dict[int, str] = {}
        self.oof_fold_seconds: dict[int, float] = {}
        self.fold_seconds: dict[str, list[float]] = {}

    @property
    def X_coerced(self) -> pd.DataFrame:
        """Training rows cast to the schema (in plan order when sampling), computed on first use."""
        return self._coerced_rows(len(self.y))

    def _coerced_rows(self, n: int) -> pd.DataFrame:
        """The first ``n`` rows cast to the schema; when sampling, only as many as a fit has needed so far."""
        if self._coerced is None or len(self._coerced) < n:
            X = self.space.X if self.plan is None else self.space.X.iloc[self.plan.order[:n]]
            self._coerced = self._coercer.transform(X)
        return self._coerced

    @property
    def tree_matrix(self) -> np.ndarray:
        """The tree-style features of all training rows, computed once.

        The tree preprocessing (ordinal codes, date parts) learns nothing from
        the target, so fitting it once on all training rows leaks nothing into
        the CV folds and saves re-encoding per fold and trial. Large tables get
        float32 codes computed per distinct value (:func:`automl.sampling.tree_matrix`).
        """
        if self._tree_matrix is None:
            if self.plan is not None:
                self._tree_matrix = tree_matrix(self.space.X, self.space.schema, rows=self.plan.order)
            else:
                pre = build_preprocessor(self.space.schema, "tree", self.space.task)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._tree_matrix = pre.fit_transform(self.X_coerced)
        return self._tree_matrix

    def params_for(self, trial: optuna.Trial) -> tuple[Algorithm, dict[str, Any]]:
        name = trial.suggest_categorical("algorithm", list(self.algorithms))
        algo = self.algorithms[name]
        default = trial.user_attrs.get("default")
        if default is not None:
            return algo, dict(algo.defaults[default])
        return algo, algo.space(PrefixedTrial(trial, name), self.space.task, len(self.y))

    def __call__(self, trial: optuna.Trial) -> float:
        algo, params = self.params_for(trial)
        trial.set_user_attr("algorithm", algo.name)
        trial.set_user_attr("params", params)
        with threadpool_limits(self.n_jobs) if self.n_jobs else nullcontext():
            if self.plan is not None:
                return self._on_samples(trial, algo, params)
            return self._cross_validate(trial, algo, params)

    def _cross_validate(self, trial: optuna.Trial, algo: Algorithm, params: dict) -> float:
        task = self.space.task
        oof = np.zeros((len(self.y), len(self.space.classes))) if task != "regression" else np.zeros(len(self.y))
        scores, seconds = [], []
        for k, (tr, va) in enumerate(self.folds):
            try:
                self._check_time(trial, algo, params, seconds)
                pred, took = self._timed_fit_predict(trial, algo, params, tr, va)
            except optuna.TrialPruned:
                if not self._worth_keeping(trial, scores, seconds):
                    raise
                return self._partial_value(trial, algo, params, scores, seconds)
            seconds.append(took)
            oof[va] = pred
            scores.append(self._score(self.y[va], pred))
            trial.report(float(np.mean(scores)), k)
            trial.set_user_attr("fold_scores", scores)
            if trial.should_prune():
                self._record_time(algo, params, seconds)
                trial.set_user_attr("fit_time", float(np.sum(seconds)))
                raise optuna.TrialPruned(f"pruned after fold {k + 1}")
        self._record_time(algo, params, seconds)
        mean = float(np.mean(scores))
        trial.set_user_attr("cv_std", float(np.std(scores)))
        trial.set_user_attr("fit_time", float(np.sum(seconds)))
        trial.set_user_attr("fold_seconds", float(np.mean(seconds)))
        self._keep_oof(trial.number, mean, oof, algo.name, float(np.mean(seconds)))
        return mean

    def _worth_keeping(self, trial: optuna.Trial, scores: list[float], seconds: list[float]) -> bool:
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

    def _partial_value(self, trial: optuna.Trial, algo: Algorithm, params: dict, scores: list[float],
                       seconds: list[float]) -> float:
        """The mean of the folds done, flagged in the leaderboard; no OOF predictions (they are incomplete)."""
        self._record_time(algo, params, seconds)
        trial.set_user_attr("stopped", f"time budget: scored on {len(scores)} of {len(self.folds)} folds")
        trial.set_user_attr("cv_std", float(np.std(scores)))
        trial.set_user_attr("fit_time", float(np.sum(seconds)))
        trial.set_user_attr("fold_seconds", float(np.mean(seconds)))
        return float(np.mean(scores))

    def _on_samples(self, trial: optuna.Trial, algo: Algorithm, params: dict) -> float:
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
            trial.set_user_attr("rows", rows)
            trial.set_user_attr("sample_scores", [[r, s] for r, s in zip(plan.rungs, scores)])
            trial.report(scores[-1], rows)
            if k < len(plan.rungs) - 1 and trial.should_prune():
                self._record_time(algo, params, [took * 1e5 / rows])
                trial.set_user_attr("fit_time", float(np.sum(seconds)))
                trial.set_user_attr("stopped", f"pruned on a sample of {rows:,} rows")
                raise optuna.TrialPruned(f"pruned on a sample of {rows:,} rows")
        return self._sampled_value(trial, algo, params, scores, seconds, plan.rungs[-1])

    def _extra_refit(self, seconds: float, rows: int) -> float:
        """How much the refit reserve would grow if a config fitting ``rows`` rows in ``seconds`` won."""
        n_train, folds = len(self.y), self.space.cv_folds
        refit = self.budget.refit_estimate(seconds * n_train * (folds - 1) / folds / rows, folds, n_train)
        return max(refit - self.budget.refit_reserve_s, 0.0)

    def _sampled_value(self, trial: optuna.Trial, algo: Algorithm, params: dict, scores: list[float],
                       seconds: list[float], rows: int) -> float:
        self._record_time(algo, params, [seconds[-1] * 1e5 / rows])
        trial.set_user_attr("fit_time", float(np.sum(seconds)))
        # What one CV fold of the usual kind would take: the refit reserve is computed from it.
        n_train, folds = len(self.y), self.space.cv_folds
        trial.set_user_attr("fold_seconds", float(seconds[-1] * n_train * (folds - 1) / folds / rows))
        trial.set_user_attr("validation_rows", self.plan.n_val)
        return scores[-1]

    # -- pieces -------------------------------------------------------------
    def _timed_fit_predict(self, trial: optuna.Trial, algo: Algorithm, params: dict, tr,
                           va) -> tuple[np.ndarray, float]:
        start = time.monotonic()
        try:
            pred = self._fit_predict(algo, params, tr, va)
        except TimeUp:
            trial.set_user_attr("stopped", "time budget")
            raise optuna.TrialPruned("stopped: it would overrun the time budget") from None
        return pred, time.monotonic() - start

    def _fit_predict(self, algo: Algorithm, params: dict, tr, va) -> np.ndarray:
        n_fit = len(range(len(self.y))[tr]) if isinstance(tr, slice) else len(tr)
        est = algo.make(params, self.space.task, self.space.seed, n_rows=n_fit)
        # Small fits run single-threaded (as the registry sets n_jobs=1 for them), for the OpenMP
        # and BLAS pools too: on a busy machine their spinning threads cost many times the fit.
        single = n_fit < SMALL_ROWS and not self.n_jobs
        with warnings.catch_warnings(), threadpool_limits(1) if single else nullcontext():
            warnings.simplefilter("ignore")
            if self.n_jobs and "n_jobs" in est.get_params():
                est.set_params(n_jobs=self.n_jobs)
            if algo.style == "tree":
                X = self.tree_matrix
                fit_within(est, X[tr], self.y[tr], self.budget.search_remaining)
                X_va = X[va]
            else:
                frame = self._coerced_rows(max(tr.stop, va.stop)) if isinstance(tr, slice) else self.X_coerced
                pre = build_preprocessor(self.space.schema, "linear", self.space.task, self.space.seed)
                X_tr = pre.fit_transform(frame.iloc[tr], self.y[tr])
                fit_within(est, X_tr, self.y[tr], self.budget.search_remaining)
                X_va = pre.transform(frame.iloc[va])
            if self.space.task == "regression":
                return est.predict(X_va)
            return _aligned_proba(est, X_va, self.space.classes)

    def _score(self, y_true: np.ndarray, pred: np.ndarray) -> float:
        s = self.space
        if s.task == "regression":
            return s.metric.score(Predictions(y_true, pred))
        return s.metric.score(predictions_from_proba(y_true, pred, s.classes, s.positive))

    def _check_time(self, trial: optuna.Trial, algo: Algorithm, params: dict, seconds: list[float],
                    expected: float | None = None) -> None:
        if self.should_stop():
            trial.set_user_attr("stopped", self.stop_note)
            raise optuna.TrialPruned(self.stop_note)
        if self.budget.total_s is None:
            return
        if expected is None:
            expected = np.mean(seconds) if seconds else self._expected_fold_seconds(algo, params)
        if expected > self.budget.search_remaining():
            trial.set_user_attr("stopped", "time budget")
            if self.cheapest_step_seconds() > self.budget.search_remaining():
                trial.study.stop()  # no trial can make progress any more: don't start new ones to prune them
            raise optuna.TrialPruned("stopped: the next fold would overrun the time budget")

    def _expected_fold_seconds(self, algo: Algorithm, params: dict) -> float:
        """From this algorithm's earlier folds, scaled by size; unknown yet: the fastest fold seen.

        When sampling rows, the times are per 100,000 fitted rows.
        """
        seen = self.fold_seconds.get(algo.name)
        if seen:
            return float(np.median(seen)) * _size(params)
        others = [t for times in self.fold_seconds.values() for t in times]
        return float(min(others)) if others else 0.0

    def cheapest_step_seconds(self) -> float:
        """The quickest first step (a fold, or the smallest sample) seen so far; 0 before any."""
        times = [t for per_algo in self.fold_seconds.values() for t in per_algo]
        if not times:
            return 0.0
        return min(times) * (self.plan.rungs[0] / 1e5 if self.plan is not None else 1.0)

    def _record_time(self, algo: Algorithm, params: dict, seconds: list[float]) -> None:
        if seconds:
            self.fold_seconds.setdefault(algo.name, []).append(float(np.mean(seconds)) / _size(params))

    def _keep_oof(self, number: int, score: float, oof: np.ndarray, algorithm: str, fold_seconds: float) -> None:
        """Keep the best trials' OOF predictions, and always each algorithm's best.

        Once TPE settles on one algorithm, the ten best trials are near-copies of one model and
        the ensemble has nothing to blend; an algorithm's best trial is the diversity it needs
        (ames: ten elastic nets kept, the LightGBM that would have tempered them dropped).
        """
        self.oof[number] = oof
        self.oof_scores[number] = score
        self.oof_algorithms[number] = algorithm
        self.oof_fold_seconds[number] = fold_seconds
        sign = 1 if self.space.metric.greater_is_better else -1
        if len(self.oof) > OOF_KEPT:
            per_algo = Counter(self.oof_algorithms.values())
            shared = [n for n, a in self.oof_algorithms.items() if per_algo[a] > 1]
            worst = min(shared or self.oof_scores, key=lambda n: sign * self.oof_scores[n])
            for kept in (self.oof, self.oof_scores, self.oof_algorithms, self.oof_fold_seconds):
                kept.pop(worst)
        # Without this the search used the time to the last second and no ensemble could be refit.
        best = sorted(self.oof_scores, key=lambda n: -sign * self.oof_scores[n])[: self.refit_members]
        self.budget.reserve_for_refit(sum(self.oof_fold_seconds[n] for n in best), self.space.cv_folds, len(self.y))


def _size(params: dict) -> float:
    """A relative cost of a config, so one fold time predicts another's."""
    return max(float(params.get("n_estimators", params.get("max_iter", 100))), 1.0) / 100.0


def _aligned_proba(est, X, classes: list) -> np.ndarray:
    """Probabilities in ``classes`` order, with zeros for a class the fold never saw."""
    proba = est.predict_proba(X)
    fitted = list(est.classes_)
    if fitted == list(classes):
        return proba
    out = np.zeros((proba.shape[0], len(classes)))
    for j, c in enumerate(fitted):
        out[:, list(classes).index(c)] = proba[:, j]
    return out


def enqueue_defaults(study: optuna.Study, algorithms: list[Algorithm]) -> int:
    """Queue every algorithm's known-good configs, best bets first; returns how many.

    Only the process that creates the study calls this; workers joining it never do.
    """
    n = 0
    for algo in algorithms:
        for i in range(len(algo.defaults)):
            study.enqueue_trial({"algorithm": algo.name}, user_attrs={"default": i})
            n += 1
    return n


def record_failures(objective: Objective, worker: str | None = None) -> Callable[[optuna.Trial], float]:
    """Run ``objective``; a failing config becomes a failed trial with its error, not a failed search."""
    def run(trial: optuna.Trial) -> float:
        if worker:
            trial.set_user_attr("worker", worker)
        try:
            return objective(trial)
        except optuna.TrialPruned:
            raise
        except Exception as err:
            trial.set_user_attr("error", f"{type(err).__name__}: {err}"[:500])
            raise
    return run
