"""Held-out scores with intervals, curves, thresholds, fairness, and comparing experiments."""

from automl.evaluation._compare import compare
from automl.evaluation._fairness import (
    CLASS_METRICS, REGRESSION_METRICS, FairnessReport, GroupFairness, experiment_fairness, fairness_report,
    group_labels, sensitive_candidates
)
from automl.evaluation._holdout import (
    LABELS, Confusion, EvaluationData, bootstrap_interval, calibration_table, classification_metrics, confusion,
    evaluate, evaluate_experiment, evaluation_data, experiment_evaluation_data, holdout_inputs, regression_metrics,
    roc_curves, weighted_metric
)
from automl.evaluation._threshold import (
    ThresholdClassifier, apply_threshold, base_model, gain_table, save_threshold, threshold_table
)

__all__ = ["CLASS_METRICS", "Confusion", "EvaluationData", "FairnessReport", "GroupFairness", "LABELS",
    "REGRESSION_METRICS", "ThresholdClassifier", "apply_threshold", "base_model", "bootstrap_interval",
    "calibration_table", "classification_metrics", "compare", "confusion", "evaluate", "evaluate_experiment",
    "evaluation_data", "experiment_evaluation_data", "experiment_fairness", "fairness_report", "gain_table",
    "group_labels", "holdout_inputs", "regression_metrics", "roc_curves", "save_threshold", "sensitive_candidates",
    "threshold_table", "weighted_metric"]
