"""An experiment's held-out rows through evaluation: metrics, the data of the plots, fairness.

Each reads the rows with :func:`automl.evaluation._inputs.holdout_inputs`, so all
of them see the saved decision threshold the same way; the metrics themselves are
the stored ones (:mod:`automl.evaluation._stored`).
"""

from __future__ import annotations

from typing import Any

from automl.data import proba_class
from automl.evaluation._curves import EvaluationData, evaluation_data
from automl.evaluation._fairness import FairnessReport, fairness_report
from automl.evaluation._inputs import holdout_inputs
from automl.evaluation._scores import Evaluation
from automl.evaluation._stored import N_RESAMPLES, SEED, compute_evaluation, stored_evaluation


def evaluate_experiment(experiment, n_resamples: int | None = None, seed: int | None = None) -> Evaluation:
    """Held-out metrics of a completed experiment (at its saved decision threshold, if any): the stored
    figures every view shows. Passing ``n_resamples`` or ``seed`` computes a one-off evaluation instead,
    which is not stored and no view shows."""
    if n_resamples is None and seed is None:
        return stored_evaluation(experiment)
    return compute_evaluation(experiment, N_RESAMPLES if n_resamples is None else n_resamples,
                              SEED if seed is None else seed)


def experiment_evaluation_data(experiment) -> EvaluationData:
    """The data of the evaluation plots, around the stored metrics (not a second scoring of them)."""
    return evaluation_data(**holdout_inputs(experiment), threshold=experiment.record.threshold,
                           result=stored_evaluation(experiment))


def experiment_fairness(experiment, sensitive: str | list[str], threshold: float = 0.1,
                        positive: Any = None, bands: int = 4) -> FairnessReport:
    """Fairness on an experiment's held-out rows, at its saved decision threshold if any."""
    args = holdout_inputs(experiment)
    hold = experiment.holdout()
    features = hold.drop(columns=[c for c in hold.columns if c == "prediction" or proba_class(c) is not None
                                  or c == experiment.target])
    return fairness_report(features, args["y_true"], args["y_pred"], sensitive, args["task"],
                           positive if positive is not None else args["positive"], threshold, bands=bands)
