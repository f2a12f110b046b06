"""The metric registry: every score the search, evaluation and monitoring use, declared once."""

from automl.metrics._registry import (
    BINARY, DEFAULT_METRIC, METRICS, MULTICLASS, REGRESSION, Metric, Predictions, get_metric, metrics_for,
    positive_class, predictions_from_proba
)

__all__ = ["BINARY", "DEFAULT_METRIC", "METRICS", "MULTICLASS", "Metric", "Predictions", "REGRESSION", "get_metric",
    "metrics_for", "positive_class", "predictions_from_proba"]
