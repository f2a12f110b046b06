"""What the search runs on, and a trial seen through one algorithm's names."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import optuna
import pandas as pd

from automl.algorithms import Algorithm
from automl.data import Schema
from automl.metrics import Metric


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

    @cached_property
    def log_link(self) -> bool:
        """Whether the target is a regression target a log scale may fit better: nonnegative and right-skewed
        (prices, counts). Then algorithms with a ``log_link_space`` search it too."""
        return log_link_suits(self.y, self.task)


LOG_LINK_SKEW = 0.5  # above this skewness the log-link variants are tried; CV decides whether they stay


def log_link_suits(y: pd.Series, task: str) -> bool:
    if task != "regression" or not len(y):
        return False
    values = pd.to_numeric(y, errors="coerce")
    return bool(values.min() >= 0 and values.skew() > LOG_LINK_SKEW)


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
