"""The Optuna driver: objective with CV or row-sampled scoring, pruner, budget, storages, workers, leaderboard."""

from automl.search._budget import Budget, process_started
from automl.search._fit_pool import FitPool, fit_workers
from automl.search._leaderboard import counts, leaderboard, load_trials, trial_rows
from automl.search._objective import ENSEMBLE_RESERVE, OOF_KEPT, Objective
from automl.search._progress import CANCEL_GRACE_S, SEARCH_OVER, CancellableBudget, ProgressReporter
from automl.search._sampling import FoldOrSamplePruner, RowSchedule, nested_order, tree_matrix
from automl.search._space import SearchSpace
from automl.search._storage import make_study, stop_at_trial_budget
from automl.search._study import PORTFOLIO, enqueue_defaults, portfolio, record_failures
from automl.search._worker import publish_setup, run_worker

__all__ = ["Budget", "CANCEL_GRACE_S", "CancellableBudget", "ENSEMBLE_RESERVE", "FitPool", "FoldOrSamplePruner",
    "OOF_KEPT", "Objective", "PORTFOLIO", "ProgressReporter", "RowSchedule", "SEARCH_OVER", "SearchSpace", "counts",
    "enqueue_defaults", "fit_workers", "leaderboard", "load_trials", "make_study", "nested_order", "portfolio",
    "process_started", "publish_setup", "record_failures", "run_worker", "stop_at_trial_budget", "tree_matrix",
    "trial_rows"]
