"""The Optuna driver: one study chooses the algorithm and its hyperparameters together.

One trial = one algorithm + params, scored by K-fold CV on the training part
(the held-out split is never seen here). Each algorithm's known-good configs
are enqueued first; TPE then explores the conditional space. Trials report
after every fold so the pruner stops bad ones early, and a trial that would
run past the time budget is stopped. On large tables (see
:mod:`automl.search._sampling`) a trial is scored on one validation part instead,
fitting on row samples that grow while the trial stays promising
(the two ways of scoring are in :mod:`automl.search._scoring`).
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from automl.algorithms import TREE, Algorithm, TimeUp, fit_within, limited_threads
from automl.data import make_coercer
from automl.metrics import Predictions, predictions_from_proba
from automl.search._budget import Budget
from automl.search._sampling import RowSchedule, tree_matrix
from automl.search._scoring import CrossValidation, RowSamples
from automl.search._space import PrefixedTrial, SearchSpace

OOF_KEPT = 10  # out-of-fold predictions kept for the ensemble: the best trials'
ENSEMBLE_RESERVE = 3  # the time kept for the final refit covers this many of the best trials
# A fit that can't be stopped midway (MLP, kNN, SVM, linear) starts only if twice its expected time is left: on
# bank-marketing a 17 s MLP started 13 s before the search's end and the fit ran to 71 s of 60.
UNSTOPPABLE_MARGIN = 2.0


class Objective(CrossValidation, RowSamples):
    """Scores one trial by cross-validation (or growing row samples); keeps the best trials' OOF predictions.

    ``schedule`` decides when row sampling replaces K-fold CV ("auto": :meth:`RowSchedule.from_env`;
    None: never);
    ``n_jobs`` caps the threads of one fit (workers sharing a machine use 1 each; otherwise each
    algorithm's thread policy decides);
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
        self.oof_save_seconds: dict[int, float] = {}  # the time to write each kept trial's model (skops)
        self.fold_seconds: dict[str, list[float]] = {}
        self.found_iterations: dict[int, list[int]] = {}  # per trial number: early stopping's rounds per fold

    @property
    def oof_target(self) -> np.ndarray:
        """The true values the kept predictions (``oof``) line up with: every training row under K-fold CV,
        the validation rows when the search samples rows."""
        return self.y if self.plan is None else self.y[self.plan.validation]

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

        The tree preprocessing (:data:`automl.algorithms.TREE`: ordinal codes, date parts)
        is encoded once (``Preprocessing.encode_once``): it learns nothing from the target,
        so fitting it on all training rows leaks nothing into the CV folds and saves
        re-encoding per fold and trial. Large tables get float32 codes computed per
        distinct value (:func:`automl.search.tree_matrix`).
        """
        if self._tree_matrix is None:
            if self.plan is not None:
                self._tree_matrix = tree_matrix(self.space.X, self.space.schema, rows=self.plan.order)
            else:
                pre = TREE.preprocessor(self.space.schema, self.space.task)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._tree_matrix = pre.fit_transform(self.X_coerced)
        return self._tree_matrix

    def params_for(self, trial: optuna.Trial) -> tuple[Algorithm, dict[str, Any]]:
        name = trial.suggest_categorical("algorithm", list(self.algorithms))
        algo = self.algorithms[name]
        default = trial.user_attrs.get("default")
        if default is not None:
            known = algo.log_link_defaults if trial.user_attrs.get("log_link") else algo.defaults
            return algo, dict(known[default])
        prefixed = PrefixedTrial(trial, name)
        params = algo.space(prefixed, self.space.task, len(self.y))
        if self.space.log_link and algo.log_link_space is not None:
            params.update(algo.log_link_space(prefixed))
        return algo, params

    def __call__(self, trial: optuna.Trial) -> float:
        algo, params = self.params_for(trial)
        trial.set_user_attr("algorithm", algo.name)
        trial.set_user_attr("params", params)
        try:
            if self.plan is not None:
                return self._on_samples(trial, algo, params)
            return self._cross_validate(trial, algo, params)
        finally:
            self.found_iterations.pop(trial.number, None)  # a pruned trial's rounds are of no further use

    # -- pieces -------------------------------------------------------------
    def _timed_fit_predict(self, trial: optuna.Trial, algo: Algorithm, params: dict, tr, va,
                           pooled: bool = False) -> tuple[np.ndarray, float]:
        """Fit on ``tr``, predict ``va``; ``pooled``: beside other folds in threads (see FitPool)."""
        start = time.monotonic()
        try:
            pred, found = self._fit_predict(algo, params, tr, va, pooled)
        except TimeUp:
            trial.set_user_attr("stopped", "time budget")
            raise optuna.TrialPruned("stopped: it would overrun the time budget") from None
        if found is not None:
            self.found_iterations.setdefault(trial.number, []).append(found)
        return pred, time.monotonic() - start

    def found_params(self, trial: optuna.Trial, algo: Algorithm, params: dict) -> dict:
        """``params`` with the iterations early stopping found on the validation folds (their mean): the
        number the refit trains, so it is found, not searched."""
        found = self.found_iterations.pop(trial.number, None)
        if not found or algo.validation_stop is None:
            return params
        return {**params, algo.iterations: max(1, int(round(float(np.mean(found)))))}

    def _fit_predict(self, algo: Algorithm, params: dict, tr, va,
                     pooled: bool = False) -> tuple[np.ndarray, int | None]:
        n_fit = len(range(len(self.y))[tr]) if isinstance(tr, slice) else len(tr)
        est = algo.make(params, self.space.task, self.space.seed, schema=self.space.schema)
        # The limit covers the preprocessing and the prediction too: idle pools' threads cost small fits most.
        threads = algo.threads(n_fit, cap=self.n_jobs)
        # The warning filters are one per process: pooled fits run inside the pool's catch_warnings.
        with nullcontext() if pooled else warnings.catch_warnings(), \
                limited_threads(est, threads, shared_pools=not pooled):
            if not pooled:
                warnings.simplefilter("ignore")
            if algo.preprocessing.encode_once:  # the tree encoding, shared by all trials
                X = self.tree_matrix
                X_tr, X_va = X[tr], X[va]
            else:
                frame = self._coerced_rows(max(tr.stop, va.stop)) if isinstance(tr, slice) else self.X_coerced
                pre = algo.preprocessing.preprocessor(self.space.schema, self.space.task, self.space.seed)
                X_tr = pre.fit_transform(frame.iloc[tr], self.y[tr])
                X_va = pre.transform(frame.iloc[va])
            # Boosting stops on the rows it is scored on, as AutoGluon's and FLAML's do: the number of trees is
            # found per fold rather than searched, and a slow learning rate no longer costs a wasted trial.
            fit_within(algo, est, X_tr, self.y[tr], self.budget.search_remaining, validation=(X_va, self.y[va]))
            found = algo.best_iteration(est) if algo.validation_stop is not None else None
            if self.space.task == "regression":
                return est.predict(X_va), found
            return _aligned_proba(est, X_va, self.space.classes), found

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
        if not algo.stops_at_deadline:  # once started it runs to its end: room for a guess twice too low
            expected *= UNSTOPPABLE_MARGIN
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
            return float(np.median(seen)) * _size(algo, params)
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
            self.fold_seconds.setdefault(algo.name, []).append(float(np.mean(seconds)) / _size(algo, params))

    def _keep_oof(self, number: int, score: float, oof: np.ndarray, algorithm: str, fold_seconds: float,
                  save_s: float = 0.0) -> None:
        """Keep the best trials' OOF predictions, and always each algorithm's best.

        Once TPE settles on one algorithm, the ten best trials are near-copies of one model and
        the ensemble has nothing to blend; an algorithm's best trial is the diversity it needs
        (ames: ten elastic nets kept, the LightGBM that would have tempered them dropped).
        """
        self.oof[number] = oof
        self.oof_scores[number] = score
        self.oof_algorithms[number] = algorithm
        self.oof_fold_seconds[number] = fold_seconds
        self.oof_save_seconds[number] = save_s
        sign = 1 if self.space.metric.greater_is_better else -1
        if len(self.oof) > OOF_KEPT:
            per_algo = Counter(self.oof_algorithms.values())
            shared = [n for n, a in self.oof_algorithms.items() if per_algo[a] > 1]
            worst = min(shared or self.oof_scores, key=lambda n: sign * self.oof_scores[n])
            for kept in (self.oof, self.oof_scores, self.oof_algorithms, self.oof_fold_seconds, self.oof_save_seconds):
                kept.pop(worst)
        # Without this the search used the time to the last second and no ensemble could be refit.
        best = sorted(self.oof_scores, key=lambda n: -sign * self.oof_scores[n])[: self.refit_members]
        self.budget.reserve_for_refit(sum(self.oof_fold_seconds[n] for n in best), self.space.cv_folds, len(self.y),
                                      save_s=sum(self.oof_save_seconds[n] for n in best))


def _size(algo: Algorithm, params: dict) -> float:
    """A relative cost of a config (its iterations per 100), so one fold time predicts another's.

    Early stopping makes the iterations a cap, not a cost: such fits count as one size.
    """
    if algo.validation_stop is not None:
        return 1.0
    iterations = params.get(algo.iterations, 100) if algo.iterations else 100
    scale = algo.cost_scale(params) if algo.cost_scale is not None else 1.0
    return max(float(iterations), 1.0) / 100.0 * scale


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
