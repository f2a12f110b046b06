"""Optuna storages and studies for one search shared by many processes and machines.

Every process opens the study through :func:`open_storage`, so all of them
send heartbeats: a worker that dies (OOM killer, lost machine, SIGKILL) stops
beating, and the next trial started anywhere marks its running trial failed
after the grace period, so the search goes on without it.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Callable
from typing import Any

import optuna

from automl.metrics import Metric
from automl.search._sampling import FoldOrSamplePruner

HEARTBEAT_S = 10  # a running trial's process writes "still alive" this often …
GRACE_S = 30  # … and is declared dead (its trial FAIL) after this long without one


def _prefer_psycopg3() -> bool:
    """SQLAlchemy's plain ``postgresql://`` means psycopg2; we install psycopg 3 (``[postgres]`` extra)."""
    return importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg") is not None


if _prefer_psycopg3():
    # So that every reader of a plain postgresql:// URL (the dashboard, the leaderboard,
    # optuna.load_study) finds a driver, not only the processes that come through here.
    from sqlalchemy.dialects import registry as _registry

    _registry.register("postgresql", "sqlalchemy.dialects.postgresql.psycopg", "PGDialect_psycopg")


def storage_url(url: str) -> str:
    """``url`` with a PostgreSQL driver SQLAlchemy can load (``postgres://`` accepted too)."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://") and _prefer_psycopg3():
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def heartbeat_settings() -> tuple[int, int]:
    """(interval, grace) in seconds; ``AUTOML_HEARTBEAT_S`` / ``AUTOML_GRACE_S`` override them (tests)."""
    interval = int(float(os.environ.get("AUTOML_HEARTBEAT_S", HEARTBEAT_S)))
    grace = int(float(os.environ.get("AUTOML_GRACE_S", GRACE_S)))
    return max(interval, 1), max(grace, interval + 1)


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats; SQLite waits for its lock instead of failing at once."""
    url = storage_url(url)
    interval, grace = heartbeat_settings()
    engine: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine["connect_args"] = {"timeout": 30}
    else:
        engine["pool_pre_ping"] = True  # a worker's idle connection may have been dropped by the server
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats: stable in practice
        return optuna.storages.RDBStorage(url, heartbeat_interval=interval, grace_period=grace, engine_kwargs=engine)


def stop_at_trial_budget(trials: int | None) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    """An Optuna callback that stops when the study (all processes together) has started ``trials`` trials.

    ``study.optimize(n_trials=…)`` counts one process's trials only; with workers joining,
    the leader adds this callback so the trial budget holds for the whole search.
    """
    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trials is not None and started_trials(study) >= trials:
            study.stop()
    return callback


def started_trials(study: optuna.Study) -> int:
    """Trials that ran or are running, in every process (enqueued ones still waiting do not count)."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL,
              optuna.trial.TrialState.RUNNING)
    return len(study.get_trials(deepcopy=False, states=states))


def make_study(storage: str, study_name: str, metric: Metric, seed: int, n_startup: int) -> optuna.Study:
    """Create (or join) the study: seeded TPE over the conditional space, median pruning per fold."""
    return optuna.create_study(storage=open_storage(storage), study_name=study_name, direction=metric.direction,
                               load_if_exists=True, **study_strategies(seed, n_startup))


def study_strategies(seed: int, n_startup: int) -> dict[str, Any]:
    """The sampler and pruner every process of one search uses (workers pass their own seed)."""
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True,
                                         n_startup_trials=max(n_startup, 5), constant_liar=True)
    return {"sampler": sampler, "pruner": FoldOrSamplePruner(n_startup)}
