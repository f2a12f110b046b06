"""Retrain on training + labelled live rows, score champion and challenger on the same rows, promote.

The challenger is a new experiment with the champion's configuration; its
held-out rows are the champion's, so the comparison is like for like.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from automl.errors import AutoMLError
from automl.experiment import HOLDOUT, Experiment, Registry, Workspace
from automl.metrics import METRICS

CONFIG_KEPT = ("task", "metric", "seed", "cv_folds", "algorithms", "ensemble", "exclude")


def labelled_rows(champion: Experiment, live: pd.DataFrame) -> pd.DataFrame:
    """The live rows that carry the target, restricted to the training columns."""
    target = champion.target
    if target not in live.columns:
        raise AutoMLError(f"The live table has no '{target}' column, so there is nothing new to learn from.",
                          "Upload live rows with their true outcome in that column.")
    columns = [c for c in champion.train_frame().columns if c in live.columns]
    rows = live.loc[live[target].notna(), columns]
    if rows.empty:
        raise AutoMLError(f"No live row has a value in '{target}'.", "Add the true outcomes when they come back.")
    return rows


def retrain_request(champion: Experiment, live: pd.DataFrame, time_budget: float | None = None,
                    trials: int | None = None) -> tuple[pd.DataFrame, dict[str, Any], int]:
    """What a challenger trains on: the champion's training rows plus the labelled live rows, with the
    champion's configuration and held-out rows. Returns (table, fit options, live rows added)."""
    new_rows = labelled_rows(champion, live)
    combined = pd.concat([champion.train_frame(), new_rows], ignore_index=True)
    config = champion.record.config.to_dict()
    options: dict[str, Any] = {k: config[k] for k in CONFIG_KEPT if k in config}
    budget = config.get("time_budget") if time_budget is None and trials is None else time_budget
    options.update(holdout_path=str(champion.file(HOLDOUT).resolve()), time_budget=budget,
                   trials=trials if trials is not None else (None if budget else config.get("trials")))
    return combined, options, len(new_rows)


def champion_vs_challenger(champion: Experiment, challenger: Experiment) -> pd.DataFrame:
    """Held-out metrics of both on the same rows (the challenger was scored on the champion's held-out rows)."""
    a, b = champion.record.holdout, challenger.record.holdout
    names = [m for m in a if m in b]
    rows = []
    for m in names:
        better = None
        if a[m] is not None and b[m] is not None:
            greater = METRICS[m].greater_is_better if m in METRICS else True
            better = (b[m] > a[m]) if greater else (b[m] < a[m])
        rows.append({"metric": m, "champion": a[m], "challenger": b[m], "challenger better": better})
    return pd.DataFrame(rows)


def promote(champion: Experiment, challenger: Experiment, by: str | None = None) -> str:
    """Make the challenger the champion of the champion's registry name; return that name.

    A champion with no name yet is registered first under its display name (made registry-safe), so what
    serves by name, lists and pages all see the promotion. Both keep their files; the registry writes the
    lineage fields (promoted / replaces, superseded_by / superseded) into both experiment.json files.
    """
    if challenger.status != "completed":
        raise AutoMLError("The challenger has not completed.", "Wait for its search to finish.")
    registry = Registry(Workspace(champion.path.parent))
    standing = registry.standing(champion.id)
    if standing is not None and not standing.is_champion:
        raise AutoMLError(f"Experiment {champion.id} is no longer the champion of '{standing.name}': experiment "
                          f"{standing.champion} is.", "Retrain from the current champion, then promote.")
    if standing is None:
        name = registry.free_name(champion)
        registry.register(name, champion, by=by)
    else:
        name = standing.name
    registry.promote(name, challenger, by=by, figures=Registry.figures(champion, challenger))
    return name

