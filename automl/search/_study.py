"""Helpers around the study: the known-good configs queued first, and failures kept as failed trials."""

from __future__ import annotations

from collections.abc import Callable

import optuna

from automl.algorithms import Algorithm


def enqueue_defaults(study: optuna.Study, algorithms: list[Algorithm]) -> int:
    """Queue every algorithm's known-good configs, best bets first; returns how many.

    Only the process that creates the study calls this; workers joining it never do.
    """
    n = 0
    for algo in algorithms:
        for i in range(len(algo.defaults)):
            study.enqueue_trial({"algorithm": algo.name}, user_attrs={"default": i})
            n += 1
    return n


def record_failures(objective: Callable[[optuna.Trial], float],
                    worker: str | None = None) -> Callable[[optuna.Trial], float]:
    """Run ``objective``; a failing config becomes a failed trial with its error, not a failed search."""
    def run(trial: optuna.Trial) -> float:
        if worker:
            trial.set_user_attr("worker", worker)
        try:
            return objective(trial)
        except optuna.TrialPruned:
            raise
        except Exception as err:
            trial.set_user_attr("error", f"{type(err).__name__}: {err}"[:500])
            raise
    return run
