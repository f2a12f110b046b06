"""The algorithm registry: one entry per algorithm, nothing else to touch to add one.

Each entry says how to build the estimator from a flat params dict, its Optuna search
space (names are prefixed ``<algorithm>:`` by the search so the spaces of different
algorithms never collide), known-good configurations to try first, which tasks it does,
its preprocessing, up to what size it is worth trying, and the traits the fitting and the
exports obey (see :class:`~automl.algorithms.Algorithm`).
"""

from __future__ import annotations

from automl.algorithms import _builders as build
from automl.algorithms import _spaces as space
from automl.algorithms._algorithm import ALL, CLS, REG, Algorithm
from automl.algorithms._preprocessing import LINEAR, TREE

FOREST_SAVE_S = 0.004  # skops: about 3 ms to write one sklearn tree and 1 ms to vet it (measured, 2 cores)
BOOSTED_TREE_SAVE_S = 0.0001  # ... and one of HistGradientBoosting's, written packed as arrays (0.05 ms measured;
# one object per tree cost 1.9 ms each at 5,000 trees and grew with their square: automl/experiment/_packed_trees.py)

ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in [
    # Its first configurations are a small portfolio, best bets first: the library's defaults (the baseline every
    # search must beat), then settings known to do well across many tables (AutoGluon's LightGBM defaults: a
    # 0.05 learning rate, the same with extremely randomised splits, and a larger-leaved slower variant), with
    # the rounds found by early stopping.
    Algorithm("lightgbm", "LightGBM", ALL, TREE, build.lgbm, space.lgbm, explainer="tree",
              iterations="n_estimators", deadline=build.lgbm_deadline, validation_stop=build.lgbm_validation_stop,
              best_iteration=build.lgbm_best_iteration, schema_params=build.lgbm_categories, side_by_side=True,
              log_link_space=space.lgbm_log_link, log_link_defaults=({"objective": "tweedie"},),
              defaults=(
        {},
        {"n_estimators": space.BOOSTING_CAP, "learning_rate": 0.05},
        {"n_estimators": space.BOOSTING_CAP, "learning_rate": 0.05, "extra_trees": True},
        {"n_estimators": space.BOOSTING_CAP, "learning_rate": 0.03, "num_leaves": 128, "min_child_samples": 3,
         "colsample_bytree": 0.9},
    )),
    Algorithm("hist_gradient_boosting", "HistGradientBoosting", ALL, TREE, build.hgb, space.hgb,
              explainer="tree", defaults=({},), iterations="max_iter", warm_start=True, early_stopping=True,
              save_s_per_iteration=BOOSTED_TREE_SAVE_S, trees_per_class=True),  # early stopping above 10,000 rows
    Algorithm("random_forest", "Random forest", ALL, TREE, build.forest("RandomForest"), space.forest,
              explainer="tree", max_rows=300_000, iterations="n_estimators", warm_start=True, side_by_side=True,
              save_s_per_iteration=FOREST_SAVE_S,
              defaults=({"n_estimators": 200, "max_features": 0.5, "min_samples_leaf": 2},)),
    Algorithm("extra_trees", "Extra trees", ALL, TREE, build.forest("ExtraTrees"), space.forest,
              explainer="tree", max_rows=300_000, iterations="n_estimators", warm_start=True, side_by_side=True,
              save_s_per_iteration=FOREST_SAVE_S,
              defaults=({"n_estimators": 200, "max_features": 0.7, "min_samples_leaf": 2},)),
    Algorithm("logistic_regression", "Logistic regression", CLS, LINEAR, build.logistic, space.logistic,
              explainer="linear", defaults=({"C": 1.0},)),
    Algorithm("ridge", "Ridge", REG, LINEAR, build.ridge, space.ridge, explainer="linear",
              defaults=({"alpha": 1.0},)),
    Algorithm("elastic_net", "Elastic net", REG, LINEAR, build.elastic_net, space.elastic_net,
              explainer="linear", defaults=({"alpha": 0.01, "l1_ratio": 0.5},)),
    Algorithm("knn", "k-nearest neighbours", ALL, LINEAR, build.knn, space.knn, max_rows=50_000,
              defaults=({"n_neighbors": 15, "weights": "distance"},), onnx_table=build.knn_onnx_table,
              note="ONNX by our own graph (automl/deploy/_onnx_knn.py), as skl2onnx's ignores weights='distance'"),
    Algorithm("svm", "SVM (RBF)", ALL, LINEAR, build.svm, space.svm, max_rows=5_000, side_by_side=True,
              defaults=({"C": 1.0, "gamma": "scale"},),
              note="probabilities by Platt scaling (internal CV), so only on small tables"),
    # MLP's warm_start restarts the optimiser on every call, so growing it in chunks would change the result.
    Algorithm("mlp", "Neural network (MLP)", ALL, LINEAR, build.mlp, space.mlp, max_rows=200_000,
              iterations="max_iter", early_stopping=True, cost_scale=space.mlp_cost,
              defaults=({"width": 64, "depth": 2, "alpha": 1e-4, "learning_rate_init": 1e-3},)),
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
