"""AutoML: Optuna search over scikit-learn and LightGBM, experiments on disk.

``automl.fit(table, target, time_budget=60)`` returns an :class:`Experiment`. The names load on first use,
so ``import automl.data`` (or the CLI's ``--help``) doesn't import every stage.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"fit": "automl.api", "resume": "automl.api", "FitConfig": "automl.api",
          "load_dataset": "automl.data", "prepare_dataset": "automl.data", "read_table": "automl.data",
          "AutoMLError": "automl.errors", "DataError": "automl.errors",
          "Experiment": "automl.experiment", "Workspace": "automl.experiment"}
__all__ = sorted(_HOMES)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'automl' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
