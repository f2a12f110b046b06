"""An experiment's held-out figures, computed once and stored: every view reads these, none recomputes.

Results, Compare, the report, the model card and Monitor used to show the same
numbers from different computations: the card bootstrapped 500 resamples and
Results 1,000 (so the intervals differed), while Compare, Monitor and the report
read the dict the fit wrote, which holds only the metrics the search can
optimise and ignores a decision threshold saved later. Here one function scores
the held-out rows and writes ``evaluation.json`` (atomically), keyed by the model
file's fingerprint, the decision threshold and the held-out file: a refit or a
new threshold changes the key, and the next reader recomputes once. The metrics
are copied into experiment.json's ``holdout``, so what reads the record (Monitor's
reference figures, the experiment list, the CLI, retraining) shows them too.
"""

from __future__ import annotations

from typing import Any

from automl.errors import AutoMLError
from automl.evaluation._inputs import holdout_inputs
from automl.evaluation._scores import Evaluation, evaluate
from automl.experiment import FINISHED, HOLDOUT, StorageError, model_fingerprint

EVALUATION = "evaluation.json"
N_RESAMPLES = 1000  # bootstrap resamples of the stored interval
SEED = 0
FORMAT = 1  # bump when what is stored changes: older files are then recomputed


def evaluation_key(experiment) -> dict[str, Any]:
    """What the stored figures depend on; any change makes them stale."""
    hold = experiment.file(HOLDOUT)
    if not hold.exists():
        raise AutoMLError(f"Experiment {experiment.id} has no held-out rows saved.",
                          "It may still be running, or it failed before saving them; train it again.")
    stat = hold.stat()
    return {"format": FORMAT, "model": model_fingerprint(experiment) if experiment.has_model else None,
            "threshold": experiment.record.threshold, "holdout": f"{stat.st_size}-{stat.st_mtime_ns}",
            "n_resamples": N_RESAMPLES, "seed": SEED}


def compute_evaluation(experiment, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> Evaluation:
    """Score the held-out rows now (at the saved decision threshold, if any). Views read
    :func:`stored_evaluation` instead; this is the one computation behind it."""
    result = evaluate(**holdout_inputs(experiment), n_resamples=n_resamples, seed=seed)
    result.threshold = experiment.record.threshold
    return result


def stored_evaluation(experiment) -> Evaluation:
    """The stored held-out figures, computed and stored first if missing or stale."""
    key = evaluation_key(experiment)
    try:
        saved = experiment.read_json(EVALUATION)
    except (OSError, ValueError):  # unreadable or half-edited by hand: computed again below
        saved = None
    if isinstance(saved, dict) and saved.get("key") == key:
        return Evaluation.from_dict(saved["evaluation"])
    return store_evaluation(experiment, key)


def store_evaluation(experiment, key: dict[str, Any] | None = None) -> Evaluation:
    """Compute the held-out figures, write them to ``evaluation.json`` and experiment.json's ``holdout``.

    Called when a fit finishes and when a threshold is saved; a read-only workspace still gets its
    numbers (computed, not stored).
    """
    key = key or evaluation_key(experiment)
    result = compute_evaluation(experiment)
    try:
        experiment.write_json(EVALUATION, {"key": key, "evaluation": result.to_dict()})
        if experiment.status in FINISHED and dict(experiment.record.holdout) != result.metrics:
            experiment.update(holdout=result.metrics)
    except StorageError:
        pass
    return result
