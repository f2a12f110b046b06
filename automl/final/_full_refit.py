"""The shipped model refit on every row given: training rows and held-out rows together.

The held-out rows score the model once, for the report; after that they are worth
more as training data than left out (a 20% hold-out means a fifth of the table
unused). So the chosen configuration, single or ensemble, with the iterations the
search found, is fitted again on all rows. The held-out scores still describe the
procedure honestly: they are those of the same configuration fitted without those
rows (slightly pessimistic for the shipped model), and the record says which rows
trained what. Skipped when the held-out rows were given from outside (they are the
comparison rows of a retrain), on tables the search sampled (the gain is small and
the fit large), and when the budget left can't pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from automl.final._ensemble import WeightedEnsemble, target_range
from automl.final._refit import fit_members

FULL_REFIT_MAX_ROWS = 100_000  # above this the search samples rows, and a second full fit costs too much


@dataclass(frozen=True)
class Member:
    """One fitted configuration of the shipped model: its algorithm, params and blend weight."""

    algorithm: str
    params: dict[str, Any]
    weight: float = 1.0


def full_refit_applies(config, n_train: int) -> tuple[bool, str | None]:
    """Whether to refit on all rows; when not, why (None: not asked for)."""
    if not config.refit_full:
        return False, None
    if config.holdout_path:
        return False, "the held-out rows were given from outside, so they stay out of training"
    if n_train > FULL_REFIT_MAX_ROWS:
        return False, f"above {FULL_REFIT_MAX_ROWS:,} training rows a second fit on all rows costs more than it gives"
    return True, None


def refit_all_rows(space, members: list[Member], X: pd.DataFrame, y: pd.Series, hold: pd.DataFrame,
                   time_left: Callable[[], float] | None = None):
    """``members`` fitted on the training rows and the held-out rows together; an ensemble if several.
    Raises :class:`automl.algorithms.TimeUp` when a member that can stop midway runs out of ``time_left``."""
    target = space.y.name
    X_all = pd.concat([X, hold[list(X.columns)]], ignore_index=True)
    y_all = pd.concat([y, hold[target]], ignore_index=True)
    fitted = fit_members(space, None, members, X_all, y_all, time_left)
    if len(fitted) == 1:
        return fitted[0]
    span = target_range(y_all.to_numpy()) if space.task == "regression" else None
    return WeightedEnsemble(fitted, [m.weight for m in members], space.task, span)._set_fitted()


def refit_seconds(first_refit_s: float, n_train: int, n_all: int) -> float:
    """The expected time of the all-rows refit, from the training-rows refit just measured (a fit grows
    about linearly with the rows; the full pipeline is refitted too, hence the margin)."""
    return first_refit_s * n_all / max(n_train, 1) * 1.2 + 0.5
