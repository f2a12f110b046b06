"""AutoML: Optuna search over scikit-learn and LightGBM, experiments on disk.

``automl.fit(table, target, time_budget=60)`` returns an :class:`Experiment`.
"""

from __future__ import annotations

from automl.api import FitConfig, fit, resume
from automl.data import load_dataset, prepare_dataset
from automl.errors import AutoMLError, DataError
from automl.experiment import Experiment, Workspace
from automl.io import read_table

__all__ = ["fit", "resume", "FitConfig", "load_dataset", "prepare_dataset", "read_table", "AutoMLError",
           "DataError", "Experiment", "Workspace"]
__version__ = "0.1.0"
