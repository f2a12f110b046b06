"""Helpers around the study: the known-good configs queued first, and failures kept as failed trials."""

from __future__ import annotations

from collections.abc import Callable

import optuna

from automl.algorithms import Algorithm


def enqueue_defaults(study: optuna.Study, algorithms: list[Algorithm], log_link: bool = False) -> int:
    """Queue every algorithm's known-good configs in :data:`PORTFOLIO` order (best bets first); returns how many.

    ``log_link`` (a nonnegative skewed regression target): an algorithm's log-link configs follow its first
    default. Only the process that creates the study calls this; workers joining it never do.
    """
    by_name = {a.name: a for a in algorithms}
    n = 0
    for name, i in portfolio(algorithms):
        study.enqueue_trial({"algorithm": name}, user_attrs={"default": i})
        n += 1
        if log_link and i == 0:
            for j in range(len(by_name[name].log_link_defaults)):
                study.enqueue_trial({"algorithm": name}, user_attrs={"default": j, "log_link": True})
                n += 1
    return n


def portfolio(algorithms: list[Algorithm]) -> list[tuple[str, int]]:
    """(algorithm, default index) of the chosen algorithms in :data:`PORTFOLIO` order, then any others."""
    chosen = {a.name: a for a in algorithms}
    order = [(n, i) for n, i in PORTFOLIO if n in chosen and i < len(chosen[n].defaults)]
    rest = [(a.name, i) for a in algorithms for i in range(len(a.defaults)) if (a.name, i) not in order]
    return order + rest


# The first trials, in order of what they are expected to give for their time: strong, cheap boosting configs
# first, then one of each family (an ensemble needs diversity), the slower variants last.
PORTFOLIO: list[tuple[str, int]] = [
    ("lightgbm", 0), ("lightgbm", 1), ("hist_gradient_boosting", 0), ("extra_trees", 0), ("random_forest", 0),
    ("logistic_regression", 0), ("ridge", 0), ("elastic_net", 0), ("lightgbm", 2), ("lightgbm", 3),
    ("knn", 0), ("svm", 0), ("mlp", 0),
]


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
