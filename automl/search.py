"""The Optuna driver: one study chooses the algorithm and its hyperparameters together.

One trial = one algorithm + params, scored by K-fold CV on the training part
(the held-out split is never seen here). Each algorithm's known-good configs
are enqueued first; TPE then explores the conditional space. Trials report
after every fold so the pruner stops bad ones early, and a trial that would
run past the time budget is stopped.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import optuna
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from automl.algorithms import Algorithm
from automl.budget import Budget, TimeUp
from automl.fitting import fit_within
from automl.metrics import Metric, Predictions, predictions_from_proba
from automl.preprocess import build_preprocessor, make_coercer
from automl.schema import Schema

OOF_KEPT = 10  # out-of-fold predictions kept for the ensemble: the best trials'


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
    """Scores one trial by cross-validation; keeps the best trials' OOF predictions."""

    def __init__(self, space: SearchSpace, budget: Budget, should_stop: Callable[[], bool] = lambda: False) -> None:
        self.space, self.budget, self.should_stop = space, budget, should_stop
        self.algorithms = {a.name: a for a in space.algorithms}
        self.y = space.y.to_numpy()
        splitter = (KFold if space.task == "regression" else StratifiedKFold)(
            n_splits=space.cv_folds, shuffle=True, random_state=space.seed)
        self.folds = list(splitter.split(np.zeros(len(self.y)), self.y))
        coercer = make_coercer(space.schema).fit(space.X)
        self.X_coerced = coercer.transform(space.X)
        self._tree_matrix: np.ndarray | None = None
        self.oof: dict[int, np.ndarray] = {}
        self.fold_seconds: dict[str, list[float]] = {}

    @property
    def tree_matrix(self) -> np.ndarray:
        """The tree-style features of all training rows, computed once.

        The tree preprocessing (ordinal codes, date parts) learns nothing from
        the target, so fitting it once on all training rows leaks nothing into
        the CV folds and saves re-encoding per fold and trial.
        """
        if self._tree_matrix is None:
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
        task = self.space.task
        oof = np.zeros((len(self.y), len(self.space.classes))) if task != "regression" else np.zeros(len(self.y))
        scores, seconds = [], []
        for k, (tr, va) in enumerate(self.folds):
            self._check_time(trial, algo, params, seconds)
            start = time.monotonic()
            try:
                pred = self._fit_predict(algo, params, tr, va)
            except TimeUp:
                trial.set_user_attr("stopped", "time budget")
                raise optuna.TrialPruned("stopped: it would overrun the time budget")
            seconds.append(time.monotonic() - start)
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
        self._keep_oof(trial.number, mean, oof)
        return mean

    # -- pieces -------------------------------------------------------------
    def _fit_predict(self, algo: Algorithm, params: dict, tr: np.ndarray, va: np.ndarray) -> np.ndarray:
        est = algo.make(params, self.space.task, self.space.seed, n_rows=len(tr))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if algo.style == "tree":
                X = self.tree_matrix
                fit_within(est, X[tr], self.y[tr], self.budget.search_remaining)
                X_va = X[va]
            else:
                pre = build_preprocessor(self.space.schema, "linear", self.space.task)
                X_tr = pre.fit_transform(self.X_coerced.iloc[tr], self.y[tr])
                fit_within(est, X_tr, self.y[tr], self.budget.search_remaining)
                X_va = pre.transform(self.X_coerced.iloc[va])
            if self.space.task == "regression":
                return est.predict(X_va)
            return _aligned_proba(est, X_va, self.space.classes)

    def _score(self, y_true: np.ndarray, pred: np.ndarray) -> float:
        s = self.space
        if s.task == "regression":
            return s.metric.score(Predictions(y_true, pred))
        return s.metric.score(predictions_from_proba(y_true, pred, s.classes, s.positive))

    def _check_time(self, trial: optuna.Trial, algo: Algorithm, params: dict, seconds: list[float]) -> None:
        if self.should_stop():
            trial.set_user_attr("stopped", "cancelled")
            raise optuna.TrialPruned("cancelled by the user")
        if self.budget.total_s is None:
            return
        expected = np.mean(seconds) if seconds else self._expected_fold_seconds(algo, params)
        if expected > self.budget.search_remaining():
            trial.set_user_attr("stopped", "time budget")
            raise optuna.TrialPruned("stopped: the next fold would overrun the time budget")

    def _expected_fold_seconds(self, algo: Algorithm, params: dict) -> float:
        """From this algorithm's earlier folds, scaled by size; unknown yet: the fastest fold seen."""
        seen = self.fold_seconds.get(algo.name)
        if seen:
            return float(np.median(seen)) * _size(params)
        others = [t for times in self.fold_seconds.values() for t in times]
        return float(min(others)) if others else 0.0

    def _record_time(self, algo: Algorithm, params: dict, seconds: list[float]) -> None:
        if seconds:
            self.fold_seconds.setdefault(algo.name, []).append(float(np.mean(seconds)) / _size(params))

    def _keep_oof(self, number: int, score: float, oof: np.ndarray) -> None:
        self.oof[number] = oof
        self.oof_scores = getattr(self, "oof_scores", {})
        self.oof_scores[number] = score
        if len(self.oof) > OOF_KEPT:
            sign = 1 if self.space.metric.greater_is_better else -1
            worst = min(self.oof_scores, key=lambda n: sign * self.oof_scores[n])
            self.oof.pop(worst)
            self.oof_scores.pop(worst)


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


def make_study(storage: str, study_name: str, metric: Metric, seed: int, n_startup: int) -> optuna.Study:
    """Create (or join) the study: seeded TPE over the conditional space, median pruning per fold."""
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True,
                                         n_startup_trials=max(n_startup, 5), constant_liar=True)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=max(n_startup, 5), n_warmup_steps=0)
    return optuna.create_study(storage=_storage(storage), study_name=study_name, direction=metric.direction,
                               sampler=sampler, pruner=pruner, load_if_exists=True)


def _storage(url: str) -> optuna.storages.BaseStorage:
    kwargs: dict[str, Any] = {"heartbeat_interval": 10, "grace_period": 30}
    if url.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 30}}
    return optuna.storages.RDBStorage(url, **kwargs)


def enqueue_defaults(study: optuna.Study, algorithms: list[Algorithm]) -> int:
    """Queue every algorithm's known-good configs, best bets first; returns how many."""
    n = 0
    for algo in algorithms:
        for i in range(len(algo.defaults)):
            study.enqueue_trial({"algorithm": algo.name}, user_attrs={"default": i})
            n += 1
    return n
