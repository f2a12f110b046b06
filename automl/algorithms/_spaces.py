"""Search spaces: ``(trial, task, n_rows) -> params``, with bounds that follow the table's size (as FLAML's do).

``n_rows`` is the number of training rows. On a small table the upper bounds of the
parameters measured in rows come down, so trials aren't spent on configurations the table
can't support: leaves of 200 rows on a 400-row table make stumps, 256 leaves can't be grown
from 300 rows, and 100 neighbours of 500 rows average a fifth of the table. From a few
thousand rows up the bounds are the fixed ones. Defaults (the first trials) don't come from
here and stay as they are.
"""

from __future__ import annotations

from typing import Any

import optuna

from automl.algorithms._algorithm import REGRESSION


def row_cap(n_rows: int, share: float, floor: int, ceiling: int) -> int:
    """An upper bound: ``share`` of the training rows, kept within [``floor``, ``ceiling``]."""
    return int(max(floor, min(ceiling, n_rows * share)))


def leaves_cap(n_rows: int) -> int:
    return row_cap(n_rows, 1 / 4, 16, 256)


def leaf_rows_cap(n_rows: int) -> int:
    """Rows per leaf: at most a tenth of the table (with 5 folds, an eighth of a fold's fitting rows)."""
    return row_cap(n_rows, 1 / 10, 20, 200)


def class_weight(trial: optuna.Trial, task: str, choices=(None, "balanced")) -> dict[str, Any]:
    return {"class_weight": trial.suggest_categorical("class_weight", list(choices))} if task != REGRESSION else {}


BOOSTING_CAP = 3000  # rounds at most: early stopping on the validation fold finds how many


def lgbm(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {
        "n_estimators": BOOSTING_CAP,
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, leaves_cap(n_rows), log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 2, leaf_rows_cap(n_rows), log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-8, 10.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 10.0, log=True),
        **class_weight(trial, task),
    }


def lgbm_log_link(trial: optuna.Trial) -> dict:
    """The loss for a nonnegative skewed target: squared error, or Tweedie's log link (ames: CV RMSE 27.6k ->
    27.0k, bike counts 38.5 -> 38.8, so it is searched, not imposed)."""
    return {"objective": trial.suggest_categorical("objective", ["regression", "tweedie"])}


def hgb(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_iter": trial.suggest_int("max_iter", 50, 1000, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 4, leaves_cap(n_rows), log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, leaf_rows_cap(n_rows), log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-8, 10.0, log=True),
        **class_weight(trial, task),
    }


def forest(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, row_cap(n_rows, 1 / 20, 10, 50), log=True),
        **class_weight(trial, task, (None, "balanced", "balanced_subsample")),
    }


def logistic(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {"C": trial.suggest_float("C", 1e-3, 100.0, log=True), **class_weight(trial, task)}


def ridge(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}


def elastic_net(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {"alpha": trial.suggest_float("alpha", 1e-4, 10.0, log=True),
            "l1_ratio": trial.suggest_float("l1_ratio", 0.05, 1.0)}


def knn(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {"n_neighbors": trial.suggest_int("n_neighbors", 3, row_cap(n_rows, 1 / 10, 10, 100), log=True),
            "weights": trial.suggest_categorical("weights", ["uniform", "distance"])}


def svm(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {"C": trial.suggest_float("C", 1e-2, 100.0, log=True),
            "gamma": trial.suggest_float("gamma", 1e-4, 1.0, log=True),
            **class_weight(trial, task)}


def mlp_cost(params: dict) -> float:
    """An MLP's cost per epoch relative to the default (64 wide, 2 deep): its hidden units."""
    return max(params.get("width", 64) * params.get("depth", 2) / 128, 0.1)


def mlp(trial: optuna.Trial, task: str, n_rows: int) -> dict:
    return {"width": trial.suggest_int("width", 16, 256, log=True),
            "depth": trial.suggest_int("depth", 1, 3),
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1e-2, log=True)}
