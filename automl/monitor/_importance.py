"""The model's feature importances for monitoring, when the caller has none: permutation importance.

Computed once on (a sample of) the held-out rows with the shared implementation
in :mod:`automl.evaluation`, and cached in the experiment folder.
"""

from __future__ import annotations

import numpy as np

from automl.errors import AutoMLError
from automl.evaluation import permutation_scores
from automl.metrics import METRICS

IMPORTANCE_CACHE = "monitor_importance.json"


def experiment_importances(experiment, model=None, max_rows: int = 2000, repeats: int = 3,
                           seed: int = 0) -> dict[str, float] | None:
    """Permutation importance of each feature (its mean drop in the experiment's metric, floored at 0), cached."""
    cached = experiment.read_json(IMPORTANCE_CACHE)
    if isinstance(cached, dict) and cached.get("importance"):
        return {str(k): float(v) for k, v in cached["importance"].items()}
    try:
        hold = experiment.holdout()
    except AutoMLError:
        return None
    model = model or experiment.load_model()
    record, task = experiment.record, experiment.task
    features = [c for c in experiment.schema.features if c in hold.columns]
    rng = np.random.default_rng(seed)
    cap = max(100, min(max_rows, 300_000 // max(len(features) * repeats, 1)))  # bounds the rows the model scores
    if len(hold) > cap:
        hold = hold.iloc[np.sort(rng.choice(len(hold), cap, replace=False))]
    X, y = hold[features].reset_index(drop=True), hold[record.target].reset_index(drop=True)
    metric = METRICS[record.metric]
    scores = permutation_scores(model, X, y, task, metric, record.positive_class, repeats, seed)
    result = {col: max(d, 0.0) for col, d in scores.as_dict().items()}
    experiment.write_json(IMPORTANCE_CACHE, {"method": "permutation", "metric": metric.name, "importance": result})
    return result
