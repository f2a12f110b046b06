"""What an evaluation is computed from: checked arrays, or the held-out rows an experiment saved."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from automl.data import proba_column
from automl.errors import AutoMLError
from automl.metrics import BINARY, REGRESSION


def checked_inputs(y_true, y_pred, proba, classes, task: str):
    """Arrays of the same non-empty rows, whose labels are among ``classes``; regression as floats."""
    y, pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y) != len(pred) or len(y) == 0:
        raise AutoMLError(f"Got {len(y)} true values and {len(pred)} predictions.",
                          "Evaluate on the same non-empty rows.")
    if task == REGRESSION:
        return y.astype(float), pred.astype(float), None, []
    classes = list(classes)
    unknown = sorted({str(v) for v in (*pd.unique(y), *pd.unique(pred))} - {str(c) for c in classes})
    if unknown:
        raise AutoMLError(f"The labels {unknown[:5]} are not among the model's classes {classes}.",
                          "Evaluate on rows whose target uses the classes the model was trained on.")
    return y, pred, None if proba is None else np.asarray(proba, dtype=float), classes


def holdout_inputs(experiment) -> dict[str, Any]:
    """The held-out rows of ``experiment`` as keyword arguments of :func:`evaluate` (threshold applied)."""
    record, hold = experiment.record, experiment.holdout()
    task, target, classes = record.task, record.target, list(record.classes)
    args = {"y_true": hold[target].to_numpy(), "y_pred": hold["prediction"].to_numpy(), "proba": None,
            "classes": classes, "task": task, "positive": record.positive_class, "metric": record.metric}
    if task != REGRESSION:
        columns = [proba_column(c) for c in classes]
        missing = [c for c in columns if c not in hold.columns]
        if missing:
            raise AutoMLError(f"The held-out file of experiment {experiment.id} lacks {', '.join(missing)}.",
                              "Train the experiment again to rebuild it.")
        args["proba"] = hold[columns].to_numpy(dtype=float)
    threshold = record.threshold
    if task == BINARY and threshold is not None:
        p_pos = args["proba"][:, classes.index(args["positive"])]
        negative = classes[1 - classes.index(args["positive"])]
        args["y_pred"] = np.where(p_pos >= threshold, args["positive"], negative).astype(args["y_true"].dtype)
    return args
