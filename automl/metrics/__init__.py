"""The metric registry: every score the search, evaluation and monitoring use, declared once."""

from automl.metrics._base import BINARY, CLASSIFICATION, MULTICLASS, REGRESSION, Metric, Predictions
from automl.metrics._registry import (
    DEFAULT_METRIC, METRICS, get_metric, metrics_for, positive_class, predictions_from_proba
)
from automl.metrics._resample import Batch, Rows

__all__ = ["BINARY", "Batch", "CLASSIFICATION", "DEFAULT_METRIC", "METRICS", "MULTICLASS", "Metric", "Predictions",
    "REGRESSION", "Rows", "get_metric", "metrics_for", "positive_class", "predictions_from_proba"]
