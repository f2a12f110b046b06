"""Estimator builders: ``(params, task, seed) -> estimator``, one per registry entry, libraries imported lazily."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.base import BaseEstimator

from automl.algorithms._algorithm import N_JOBS, REGRESSION
from automl.algorithms._fit import TimeUp


def lgbm(params: dict, task: str, seed: int) -> BaseEstimator:
    import lightgbm as lgb

    cls = lgb.LGBMRegressor if task == REGRESSION else lgb.LGBMClassifier
    if params.get("subsample", 1.0) < 1.0:
        params.setdefault("subsample_freq", 1)
    if task == REGRESSION:
        params.pop("class_weight", None)
    return cls(random_state=seed, n_jobs=N_JOBS, verbose=-1, **params)


def lgbm_deadline(time_left: Callable[[], float]) -> dict[str, Any]:
    """``fit`` keyword arguments: a callback that raises :class:`TimeUp` after the iteration that ran out."""
    def callback(env) -> None:
        if time_left() < 0:
            raise TimeUp()
    callback.order = 100  # type: ignore[attr-defined]
    return {"callbacks": [callback]}


def lgbm_categories(schema) -> dict[str, Any]:
    """LightGBM splits category codes as categories, not as numbers (adult +0.002 AUC, bank-marketing +0.002,
    one LightGBM each): their positions in the tree features, which hold the numbers first, then the categories
    (:data:`automl.algorithms.TREE`, :func:`automl.search.tree_matrix`). An unseen category is coded -1,
    which LightGBM reads as missing."""
    from automl.data import BOOLEAN, CATEGORICAL, NUMERIC

    first = len(schema.of_kind(NUMERIC))
    count = len(schema.of_kind(CATEGORICAL, BOOLEAN))
    return {"categorical_feature": list(range(first, first + count))} if count else {}


EARLY_STOP_ROUNDS = 50  # rounds without improvement on the validation fold before the boosting stops


def lgbm_validation_stop(X_va, y_va) -> dict[str, Any]:
    """``fit`` keyword arguments: stop when the validation fold's loss has not improved for a while."""
    import lightgbm as lgb

    return {"eval_set": [(X_va, y_va)], "callbacks": [lgb.early_stopping(EARLY_STOP_ROUNDS, verbose=False)]}


def lgbm_best_iteration(est: BaseEstimator) -> int | None:
    """The boosting rounds early stopping kept (None when it never stopped on validation rows)."""
    best = getattr(est, "best_iteration_", None)
    return int(best) if best else None


def hgb(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == REGRESSION:
        params.pop("class_weight", None)
        return HistGradientBoostingRegressor(random_state=seed, **params)
    return HistGradientBoostingClassifier(random_state=seed, **params)


def forest(kind: str) -> Callable[[dict, str, int], BaseEstimator]:
    def build(params: dict, task: str, seed: int) -> BaseEstimator:
        from sklearn import ensemble

        name = f"{kind}{'Regressor' if task == REGRESSION else 'Classifier'}"
        if task == REGRESSION:
            params.pop("class_weight", None)
        return getattr(ensemble, name)(random_state=seed, n_jobs=N_JOBS, **params)
    return build


def logistic(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, random_state=seed, **params)


def ridge(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.linear_model import Ridge

    return Ridge(random_state=seed, **params)


def elastic_net(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.linear_model import ElasticNet

    return ElasticNet(random_state=seed, max_iter=5000, **params)


def knn(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsRegressor if task == REGRESSION else KNeighborsClassifier
    return cls(n_jobs=N_JOBS, **params)


def knn_onnx_table(schema: Any) -> str:
    """Why kNN's ONNX graph can't follow a table of categories only ('' when it has a number column).

    With categories alone many training rows are at exactly the same distance from a row, and which of them take
    the last of the k places is left to the order scikit-learn's heap or tree visits them (brute force and the
    KD tree disagree on 63% of car-evaluation's rows); the graph takes the lowest indices, so the votes differ.
    """
    from automl.data import NUMERIC

    if schema.of_kind(NUMERIC):
        return ""
    return ("on a table of categories only, neighbours at exactly the same distance fill the last places in "
            "scikit-learn's search order, which the ONNX graph can't follow")


def svm(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.svm import SVC, SVR

    if task == REGRESSION:
        params.pop("class_weight", None)
        return SVR(**params)
    return SVC(probability=True, random_state=seed, **params)


def mlp(params: dict, task: str, seed: int) -> BaseEstimator:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    width, depth = params.pop("width"), params.pop("depth")
    params.setdefault("max_iter", 300)  # epochs: the registry's iteration parameter
    params.setdefault("early_stopping", True)
    cls = MLPRegressor if task == REGRESSION else MLPClassifier
    est = cls(hidden_layer_sizes=(width,) * depth, random_state=seed, **params)
    if task == REGRESSION:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        # An unscaled target (prices in the 100,000s) keeps the network from converging for hundreds of epochs.
        return TransformedTargetRegressor(regressor=est, transformer=StandardScaler())
    return est
