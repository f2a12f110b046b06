"""The algorithm registry: one entry per algorithm, nothing else to touch to add one.

Each entry says how to build the estimator from a flat params dict, its
Optuna search space (names are prefixed ``<algorithm>:`` by the search so the
spaces of different algorithms never collide), known-good configurations to
try first, which tasks it does, which preprocessing style it needs, and up to
what size it is worth trying.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from sklearn.base import BaseEstimator

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
CLS, REG, ALL = (BINARY, MULTICLASS), (REGRESSION,), (BINARY, MULTICLASS, REGRESSION)
N_JOBS = 2
SMALL_ROWS = 20_000


@dataclass(frozen=True)
class Algorithm:
    name: str
    label: str
    tasks: tuple[str, ...]
    style: str  # preprocessing: "tree" (ordinal, NaN kept) or "linear" (one-hot, imputed, scaled)
    build: Callable[[dict[str, Any], str, int], BaseEstimator]  # (params, task, seed) -> estimator
    space: Callable[[optuna.Trial, str, int], dict[str, Any]]  # (trial, task, n_rows) -> params
    defaults: tuple[dict[str, Any], ...] = ()  # tried first, in order
    max_rows: int | None = None  # above this many training rows the algorithm is left out
    explainer: str = "kernel"  # SHAP explainer family: tree | linear | kernel
    onnx: bool = True  # can skl2onnx/onnxmltools convert it?
    note: str = ""

    def make(self, params: dict[str, Any], task: str, seed: int = 0, n_rows: int | None = None) -> BaseEstimator:
        """A fresh estimator; single-threaded on small tables, where threads cost more than they give
        (and two searches sharing 2 cores would otherwise slow each other down many times over)."""
        est = self.build(dict(params), task, seed)
        if n_rows is not None and n_rows < SMALL_ROWS and "n_jobs" in est.get_params():
            est.set_params(n_jobs=1)
        return est

    def suits(self, task: str, n_rows: int) -> tuple[bool, str]:
        """Whether to search this algorithm, and why not when it isn't."""
        if task not in self.tasks:
            return False, f"does not do {task}"
        if self.max_rows is not None and n_rows > self.max_rows:
            return False, f"left out above {self.max_rows:,} training rows (too slow; {n_rows:,} here)"
        return True, ""


def _class_weight(trial: optuna.Trial, task: str, choices=(None, "balanced")) -> dict[str, Any]:
    return {"class_weight": trial.suggest_categorical("class_weight", list(choices))} if task != REGRESSION else {}


# -- LightGBM -----------------------------------------------------------------
def _lgbm(params: dict, task: str, seed: int) -> BaseEstimator:
    import lightgbm as lgb

    cls = lgb.LGBMRegressor if task == REGRESSION else lgb.LGBMClassifier
    if params.get("subsample", 1.0) < 1.0:
        params.setdefault("subsample_freq", 1)
    if task == REGRESSION:
        params.pop("class_weight", None)
    return cls(random_state=seed, n_jobs=N_JOBS, verbose=-1, **params)


def _lgbm_space(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 1500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 2, 200, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-8, 10.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 10.0, log=True),
        **_class_weight(trial, task),
    }


# -- scikit-learn ensembles ---------------------------------------------------------
def _hgb(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == REGRESSION:
        params.pop("class_weight", None)
        return HistGradientBoostingRegressor(random_state=seed, **params)
    return HistGradientBoostingClassifier(random_state=seed, **params)


def _hgb_space(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_iter": trial.suggest_int("max_iter", 50, 1000, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 4, 256, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 200, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-8, 10.0, log=True),
        **_class_weight(trial, task),
    }


def _forest(kind: str) -> Callable[[dict, str, int], BaseEstimator]:
    def build(params: dict, task: str, seed: int) -> BaseEstimator:
        from sklearn import ensemble

        name = f"{kind}{'Regressor' if task == REGRESSION else 'Classifier'}"
        if task == REGRESSION:
            params.pop("class_weight", None)
        return getattr(ensemble, name)(random_state=seed, n_jobs=N_JOBS, **params)
    return build


def _forest_space(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 50, log=True),
        **_class_weight(trial, task, (None, "balanced", "balanced_subsample")),
    }


# -- linear models --------------------------------------------------------------------
def _logistic(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, random_state=seed, **params)


def _ridge(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.linear_model import Ridge

    return Ridge(random_state=seed, **params)


def _elastic_net(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.linear_model import ElasticNet

    return ElasticNet(random_state=seed, max_iter=5000, **params)


# -- others -----------------------------------------------------------------------------
def _knn(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsRegressor if task == REGRESSION else KNeighborsClassifier
    return cls(n_jobs=N_JOBS, **params)


def _svm(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.svm import SVC, SVR

    if task == REGRESSION:
        params.pop("class_weight", None)
        return SVR(**params)
    return SVC(probability=True, random_state=seed, **params)


def _mlp(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    width, depth = params.pop("width"), params.pop("depth")
    cls = MLPRegressor if task == REGRESSION else MLPClassifier
    est = cls(hidden_layer_sizes=(width,) * depth, early_stopping=True, max_iter=300, random_state=seed, **params)
    if task == REGRESSION:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        # An unscaled target (prices in the 100,000s) keeps the network from converging for hundreds of epochs.
        return TransformedTargetRegressor(regressor=est, transformer=StandardScaler())
    return est


ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in [
    Algorithm("lightgbm", "LightGBM", ALL, "tree", _lgbm, _lgbm_space, explainer="tree", defaults=(
        {},  # the library's own defaults: the baseline every search must beat
        {"n_estimators": 500, "learning_rate": 0.03, "num_leaves": 31, "min_child_samples": 20,
         "subsample": 0.8, "colsample_bytree": 0.7},
    )),
    Algorithm("hist_gradient_boosting", "HistGradientBoosting", ALL, "tree", _hgb, _hgb_space,
              explainer="tree", defaults=({},), onnx=True),
    Algorithm("random_forest", "Random forest", ALL, "tree", _forest("RandomForest"), _forest_space,
              explainer="tree", max_rows=300_000, defaults=({"n_estimators": 200, "max_features": 0.5,
                                                            "min_samples_leaf": 2},)),
    Algorithm("extra_trees", "Extra trees", ALL, "tree", _forest("ExtraTrees"), _forest_space,
              explainer="tree", max_rows=300_000, defaults=({"n_estimators": 200, "max_features": 0.7,
                                                            "min_samples_leaf": 2},)),
    Algorithm("logistic_regression", "Logistic regression", CLS, "linear", _logistic,
              lambda t, task, n: {"C": t.suggest_float("C", 1e-3, 100.0, log=True), **_class_weight(t, task)},
              explainer="linear", defaults=({"C": 1.0},)),
    Algorithm("ridge", "Ridge", REG, "linear", _ridge,
              lambda t, task, n: {"alpha": t.suggest_float("alpha", 1e-3, 1e3, log=True)},
              explainer="linear", defaults=({"alpha": 1.0},)),
    Algorithm("elastic_net", "Elastic net", REG, "linear", _elastic_net,
              lambda t, task, n: {"alpha": t.suggest_float("alpha", 1e-4, 10.0, log=True),
                                  "l1_ratio": t.suggest_float("l1_ratio", 0.05, 1.0)},
              explainer="linear", defaults=({"alpha": 0.01, "l1_ratio": 0.5},)),
    Algorithm("knn", "k-nearest neighbours", ALL, "linear", _knn,
              lambda t, task, n: {"n_neighbors": t.suggest_int("n_neighbors", 3, 100, log=True),
                                  "weights": t.suggest_categorical("weights", ["uniform", "distance"])},
              max_rows=50_000, defaults=({"n_neighbors": 15, "weights": "distance"},),
              onnx=False, note="ONNX computes distances in float32, so neighbour ties break differently"),
    Algorithm("svm", "SVM (RBF)", ALL, "linear", _svm,
              lambda t, task, n: {"C": t.suggest_float("C", 1e-2, 100.0, log=True),
                                  "gamma": t.suggest_float("gamma", 1e-4, 1.0, log=True),
                                  **_class_weight(t, task)},
              max_rows=5_000, defaults=({"C": 1.0, "gamma": "scale"},),
              note="probabilities by Platt scaling (internal CV), so only on small tables"),
    Algorithm("mlp", "Neural network (MLP)", ALL, "linear", _mlp,
              lambda t, task, n: {"width": t.suggest_int("width", 16, 256, log=True),
                                  "depth": t.suggest_int("depth", 1, 3),
                                  "alpha": t.suggest_float("alpha", 1e-6, 1e-1, log=True),
                                  "learning_rate_init": t.suggest_float("learning_rate_init", 1e-4, 1e-2, log=True)},
              max_rows=200_000, defaults=({"width": 64, "depth": 2, "alpha": 1e-4, "learning_rate_init": 1e-3},)),
]}


def get_algorithms(names: list[str] | None, task: str) -> list[Algorithm]:
    """The registry entries called ``names`` (all that do ``task`` when None), in registry order."""
    from automl.errors import AutoMLError

    if names:
        unknown = [n for n in names if n not in ALGORITHMS]
        if unknown:
            raise AutoMLError(f"Unknown algorithm(s): {', '.join(unknown)}.",
                              f"Choose from: {', '.join(ALGORITHMS)}.")
        chosen = [ALGORITHMS[n] for n in ALGORITHMS if n in names]
    else:
        chosen = list(ALGORITHMS.values())
    chosen = [a for a in chosen if task in a.tasks]
    if not chosen:
        raise AutoMLError(f"None of the chosen algorithms does a {task} task.",
                          "Choose at least one algorithm that does it, or leave the choice to the search.")
    return chosen
