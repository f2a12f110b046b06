"""Trials of a study as a table: the live leaderboard and the history, from any storage.

Read from the study itself (not from the leader process's memory), so the
dashboard counts the trials of every worker that joined the search.
"""

from __future__ import annotations

import json
from typing import Any

import optuna
import pandas as pd

from automl.algorithms import ALGORITHMS

COLUMNS = ["trial", "algorithm", "label", "state", "score", "cv_std", "fit_time_s", "params", "default",
           "note", "started", "finished"]


def trial_rows(trials: list[optuna.trial.FrozenTrial]) -> pd.DataFrame:
    """One row per trial, in trial order."""
    rows: list[dict[str, Any]] = []
    for t in trials:
        attrs = t.user_attrs
        algo = attrs.get("algorithm") or t.params.get("algorithm", "")
        note = attrs.get("stopped") or ("pruned" if t.state == optuna.trial.TrialState.PRUNED else "")
        if t.state == optuna.trial.TrialState.FAIL:
            note = attrs.get("error", "failed")
        rows.append({
            "trial": t.number, "algorithm": algo,
            "label": ALGORITHMS[algo].label if algo in ALGORITHMS else algo,
            "state": t.state.name.lower(), "score": t.value, "cv_std": attrs.get("cv_std"),
            "fit_time_s": attrs.get("fit_time"), "params": json.dumps(attrs.get("params", {}), default=str),
            "default": attrs.get("default") is not None, "note": note,
            "started": t.datetime_start, "finished": t.datetime_complete,
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def leaderboard(trials: pd.DataFrame, greater_is_better: bool, top: int | None = None) -> pd.DataFrame:
    """Completed trials, best first; ``rank`` 1 is the best."""
    done = trials[trials["state"] == "complete"].copy()
    done = done.sort_values(["score", "trial"], ascending=[not greater_is_better, True])
    done.insert(0, "rank", range(1, len(done) + 1))
    return done.head(top) if top else done


def load_trials(storage_url: str, study_name: str) -> pd.DataFrame:
    """All trials of a study in any Optuna storage (empty when it does not exist yet)."""
    try:
        study = optuna.load_study(study_name=study_name, storage=storage_url)
    except KeyError:
        return pd.DataFrame(columns=COLUMNS)
    return trial_rows(study.get_trials(deepcopy=False))


def counts(trials: pd.DataFrame) -> dict[str, int]:
    states = trials["state"].value_counts() if len(trials) else pd.Series(dtype=int)
    out = {s: int(states.get(s, 0)) for s in ("complete", "pruned", "fail", "running")}
    return out | {"total": sum(out.values())}  # enqueued (waiting) trials have not started
