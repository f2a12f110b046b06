"""The contenders: one function per tool, all with the same signature, registered by name.

A contender gets the training rows (target included) and the test features and
returns test predictions; it never sees the test target. Each one runs in its
own process (``python -m bench.contenders``) so its memory can be measured and
a hung tool can be killed. A tool installed in another virtualenv (because it
pins old library versions) is run with that venv's python: set
``AUTOML_BENCH_PYTHON_<NAME>`` (e.g. ``AUTOML_BENCH_PYTHON_AUTOGLUON``).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

N_JOBS = 2  # every contender gets the same two cores


@dataclass
class Task:
    """What a contender is asked to do."""

    train: pd.DataFrame
    test_X: pd.DataFrame
    target: str
    task: str  # binary | multiclass | regression
    metric: str  # roc_auc | log_loss | rmse
    budget: float
    seed: int
    workdir: str


@dataclass
class Output:
    """Test predictions: values for regression, probabilities with the model's class order otherwise."""

    pred: np.ndarray
    classes: list[Any] | None = None
    trials: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# name -> "module:function" (imported lazily: a missing library only fails its own contender)
CONTENDERS: dict[str, str] = {
    "ours": "bench.contenders.tools:ours",
    "ours_cv3": "bench.contenders.tools:ours_cv3",
    "ours_train_rows": "bench.contenders.tools:ours_train_rows",
    "flaml": "bench.contenders.tools:flaml",
    "lgbm_default": "bench.contenders.baselines:lgbm_default",
    "rf_default": "bench.contenders.baselines:rf_default",
    "autogluon": "bench.contenders.tools:autogluon",
    "tpot": "bench.contenders.tools:tpot",
    "pycaret": "bench.contenders.tools:pycaret",
}
# imported before the clock starts, so fit time is the tool's work, not its import
IMPORTS: dict[str, list[str]] = {
    "ours": ["automl", "lightgbm", "sklearn.ensemble"], "ours_cv3": ["automl", "lightgbm", "sklearn.ensemble"],
    "ours_train_rows": ["automl", "lightgbm", "sklearn.ensemble"],
    "flaml": ["flaml.automl"], "lgbm_default": ["lightgbm"],
    "rf_default": ["sklearn.ensemble"], "autogluon": ["autogluon.tabular"], "tpot": ["tpot"],
    "pycaret": ["pycaret.classification", "pycaret.regression"],
}
DEFAULT = ["ours", "flaml", "lgbm_default", "rf_default"]


def resolve(name: str) -> Callable[[Task], Output]:
    module, func = CONTENDERS[name].split(":")
    return getattr(importlib.import_module(module), func)


def python_for(name: str) -> str:
    """The interpreter that runs ``name``: its own venv's when configured, else this one."""
    return os.environ.get(f"AUTOML_BENCH_PYTHON_{name.upper()}", sys.executable)
