"""An experiment's held-out rows through evaluation: metrics, the data of the plots, fairness.

Each reads the rows with :func:`automl.evaluation._inputs.holdout_inputs`, so all
of them see the saved decision threshold the same way.
"""

from __future__ import annotations

from typing import Any

from automl.data import proba_class
from automl.evaluation._curves import EvaluationData, evaluation_data
from automl.evaluation._fairness import FairnessReport, fairness_report
from automl.evaluation._inputs import holdout_inputs
from automl.evaluation._scores import Evaluation, evaluate


def evaluate_experiment(experiment, n_resamples: int = 1000, seed: int = 0) -> Evaluation:
    """Held-out metrics of a completed experiment (at its saved decision threshold, if any)."""
    args = holdout_inputs(experiment)
    result = evaluate(**args, n_resamples=n_resamples, seed=seed)
    result.threshold = experiment.record.threshold
    return result


def experiment_evaluation_data(experiment, seed: int = 0) -> EvaluationData:
    return evaluation_data(**holdout_inputs(experiment), threshold=experiment.record.threshold, seed=seed)


def experiment_fairness(experiment, sensitive: str | list[str], threshold: float = 0.1,
                        positive: Any = None, bands: int = 4) -> FairnessReport:
    """Fairness on an experiment's held-out rows, at its saved decision threshold if any."""
    args = holdout_inputs(experiment)
    hold = experiment.holdout()
    features = hold.drop(columns=[c for c in hold.columns if c == "prediction" or proba_class(c) is not None
                                  or c == experiment.target])
    return fairness_report(features, args["y_true"], args["y_pred"], sensitive, args["task"],
                           positive if positive is not None else args["positive"], threshold, bands=bands)
