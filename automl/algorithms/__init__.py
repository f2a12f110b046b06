"""The algorithm registry: estimator, search space, defaults and fitting traits, one entry per algorithm."""

from automl.algorithms._fit import TimeUp, fit_within
from automl.algorithms._registry import ALGORITHMS, SMALL_ROWS, Algorithm, get_algorithms

__all__ = ["ALGORITHMS", "Algorithm", "SMALL_ROWS", "TimeUp", "fit_within", "get_algorithms"]
