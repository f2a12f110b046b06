"""The algorithm registry: estimator, search space, defaults, preprocessing and fitting traits, one entry each."""

from automl.algorithms._algorithm import SMALL_ROWS, Algorithm, fit_threads
from automl.algorithms._fit import TimeUp, fit_within, limited_threads
from automl.algorithms._preprocessing import LINEAR, TREE, Preprocessing
from automl.algorithms._registry import ALGORITHMS, get_algorithms

__all__ = ["ALGORITHMS", "Algorithm", "LINEAR", "Preprocessing", "SMALL_ROWS", "TREE", "TimeUp", "fit_threads",
    "fit_within", "get_algorithms", "limited_threads"]
