"""Held-out scores with intervals, curves, thresholds, fairness, permutation importance, comparing experiments."""

from automl.evaluation._bootstrap import bootstrap_interval, weighted_metric
from automl.evaluation._compare import BEST_MARK, Comparison, compare, refusal
from automl.evaluation._curves import (
    Confusion, EvaluationData, calibration_table, confusion, evaluation_data, roc_curves
)
from automl.evaluation._experiment import evaluate_experiment, experiment_evaluation_data, experiment_fairness
from automl.evaluation._format import format_interval, format_metric
from automl.evaluation._fairness import (
    CLASS_METRICS, REGRESSION_METRICS, FairnessReport, GroupFairness, fairness_report, group_labels,
    sensitive_candidates
)
from automl.evaluation._inputs import holdout_inputs
from automl.evaluation._permutation import PermutationScores, permutation_scores
from automl.evaluation._scores import Evaluation, evaluate, task_scores
from automl.evaluation._stored import EVALUATION, compute_evaluation, store_evaluation, stored_evaluation
from automl.evaluation._threshold import (
    ThresholdClassifier, apply_threshold, base_model, gain_table, save_threshold, threshold_table
)

__all__ = ["BEST_MARK", "CLASS_METRICS", "Comparison", "Confusion", "EVALUATION", "Evaluation", "EvaluationData",
    "FairnessReport", "GroupFairness", "PermutationScores", "REGRESSION_METRICS", "ThresholdClassifier",
    "apply_threshold", "base_model", "bootstrap_interval", "calibration_table", "compare", "compute_evaluation",
    "confusion", "evaluate", "evaluate_experiment", "evaluation_data", "experiment_evaluation_data",
    "experiment_fairness", "fairness_report", "format_interval", "format_metric", "gain_table", "group_labels",
    "holdout_inputs", "permutation_scores", "refusal", "roc_curves", "save_threshold", "sensitive_candidates",
    "store_evaluation", "stored_evaluation", "task_scores", "threshold_table", "weighted_metric"]
