"""Monitoring: the training reference, the drift-test registry, live-vs-training reports, retraining."""

from automl.monitor._drift import DriftSettings
from automl.monitor._monitor import MonitorReport, monitor, monitor_experiment
from automl.monitor._performance import expected_roc_auc
from automl.monitor._profile import MAX_CATEGORIES, OTHER, QUANTILES
from automl.monitor._reference import build_reference, load_reference, save_reference
from automl.monitor._retrain import champion_vs_challenger, promote, retrain_request
from automl.monitor._stattests import (
    CATEGORICAL, DRIFT_TESTS, NUMERIC, DriftTest, chi_square_p_value, drift_test, jensen_shannon, ks_p_value, psi,
    psi_band, wasserstein, wasserstein_std
)

__all__ = ["CATEGORICAL", "DRIFT_TESTS", "DriftSettings", "DriftTest", "MAX_CATEGORIES", "MonitorReport", "NUMERIC",
    "OTHER", "QUANTILES", "build_reference", "champion_vs_challenger", "chi_square_p_value", "drift_test",
    "expected_roc_auc", "jensen_shannon", "ks_p_value", "load_reference", "monitor", "monitor_experiment", "promote",
    "psi", "psi_band", "retrain_request", "save_reference", "wasserstein", "wasserstein_std"]
