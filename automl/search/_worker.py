"""``automl worker``: join a running search from any machine and run trials until its budget ends.

The leader (``automl fit … --storage postgresql://…``) owns the experiment:
it splits the rows, creates the study, enqueues the default configurations,
and refits the final model. A worker only runs trials: it rebuilds the same
:class:`~automl.search.Objective` from the experiment's training rows (a path
it can read: the shared workspace, or ``--data``; never through the
database), joins the study with its own sampler seed, and stops at the
leader's deadline (``search_deadline``, epoch seconds), at the trial budget
counted over all processes, or when the leader has moved on to refitting.
Workers never enqueue anything, so the defaults run once.
"""

from __future__ import annotations

import os
import platform
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import optuna
import pandas as pd

from automl import experiment as ex
from automl.algorithms import get_algorithms
from automl.errors import AutoMLError, ExperimentNotFound
from automl.experiment import Experiment, ExperimentMeta, Workspace
from automl.metrics import get_metric
from automl.search._budget import Budget
from automl.search._objective import Objective
from automl.search._progress import SEARCH_OVER
from automl.search._space import SearchSpace
from automl.search._storage import open_storage, started_trials, study_strategies
from automl.search._study import record_failures

SETUP_ATTR = "automl_setup"  # study user attr with what a worker needs when it cannot see the folder
SETUP_KEYS = ("target", "task", "metric", "schema", "classes", "positive_class", "config", "rows",
              "search_deadline", "trial_budget")


@dataclass
class WorkerReport:
    """What one worker did: its trials by state and why it stopped."""

    study_name: str
    worker: str
    states: dict[str, int] = field(default_factory=dict)
    stopped: str = ""
    seconds: float = 0.0

    @property
    def trials(self) -> int:
        return sum(self.states.values())


def publish_setup(study: optuna.Study, record: ExperimentMeta) -> None:
    """Store what workers need (schema, task, metric, config, deadline) in the study itself.

    Lets a worker that cannot see the leader's experiment folder join with ``--data`` alone.
    """
    stored = record.to_dict()
    study.set_user_attr(SETUP_ATTR, {k: stored.get(k) for k in SETUP_KEYS})


def run_worker(ref: str, storage: str | None = None, workspace: str | os.PathLike | None = None,
               data: str | os.PathLike | None = None, n_jobs: int | None = 1, wait_s: float = 120.0,
               seed: int | None = None, log: Callable[[str], None] | None = None) -> WorkerReport:
    """Run trials of the search ``ref`` (an experiment id = its study name) until the search ends."""
    start = time.time()
    exp, meta, storage = _setup(ref, storage, workspace, wait_s)
    name = meta.study_name or ref
    worker = f"{platform.node()}:{os.getpid()}"
    objective = _objective(meta, exp, data, n_jobs, should_stop=lambda: _leader_done(exp) is not None)
    objective.stop_note = "the search ended"
    budget = objective.budget
    n_startup = sum(len(a.defaults) for a in objective.space.algorithms)
    seed = secrets.randbelow(2**31) if seed is None else seed  # not the leader's: no duplicate random configs
    study = optuna.load_study(study_name=name, storage=open_storage(storage), **study_strategies(seed, n_startup))
    report = WorkerReport(study_name=name, worker=worker)
    run = record_failures(objective, worker)
    while True:
        report.stopped = _stop_reason(study, meta, exp, budget, objective)
        if report.stopped:
            break
        study.optimize(run, n_trials=1, catch=(Exception,), gc_after_trial=False)
        last = max((t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == worker),
                   key=lambda t: t.number, default=None)
        if last is not None:
            state = last.state.name.lower()
            report.states[state] = report.states.get(state, 0) + 1
            if log:
                score = "" if last.value is None else f" {last.value:.4f}"
                log(f"trial {last.number} {state}{score} ({last.user_attrs.get('algorithm', '?')})")
    optuna.storages.fail_stale_trials(study)  # trials of workers that died while we ran
    report.seconds = round(time.time() - start, 2)
    return report


def _setup(ref: str, storage: str | None, workspace, wait_s: float) -> tuple[Experiment | None, ExperimentMeta, str]:
    """The experiment folder (if this machine sees it), its description, and the storage URL.

    Waits up to ``wait_s`` for the leader to reach its search (it writes ``study_name`` then).
    """
    ref = str(ref).strip()
    deadline = time.time() + wait_s
    try:
        exp: Experiment | None = Workspace(workspace).get(ref)
    except ExperimentNotFound:
        exp = None
    if exp is None and not storage:
        raise AutoMLError(f"There is no experiment '{ref}' in the workspace '{Workspace(workspace).root}', "
                          "and no --storage to find its study in.",
                          "Give --workspace (a folder shared with the leader) or --storage postgresql://… "
                          "with --data.")
    while True:
        if exp is not None:
            meta = exp.record
            if meta.study_name and meta.schema is not None:
                return exp, meta, storage or exp.storage_url
            if meta.status in ex.FINISHED:
                raise AutoMLError(f"Experiment {ref} is {meta.status}; there is no search to join.",
                                  "Start a new search with `automl fit … --storage …`, then the workers.")
        else:
            setup = _published_setup(ref, storage)
            if setup is not None:
                return None, ExperimentMeta.from_dict({**setup, "id": ref, "study_name": ref}), storage
        if time.time() > deadline:
            raise AutoMLError(f"The search '{ref}' did not start within {wait_s:.0f}s.",
                              "Start the leader first (`automl fit … --storage …`), or wait longer (--wait).")
        time.sleep(0.5)


def _published_setup(ref: str, storage: str) -> dict | None:
    try:
        study = optuna.load_study(study_name=ref, storage=open_storage(storage))
    except KeyError:
        return None
    setup = study.user_attrs.get(SETUP_ATTR)
    if setup is None:
        raise AutoMLError(f"The study '{ref}' does not describe its experiment, and this machine cannot see "
                          "the experiment folder.", "Give --workspace: a folder shared with the leader.")
    return setup


def _objective(meta: ExperimentMeta, exp: Experiment | None, data, n_jobs: int | None,
               should_stop: Callable[[], bool]) -> Objective:
    """The leader's objective, rebuilt from the stored description and the training rows."""
    config, task, target = meta.config, meta.task, meta.target
    train = _training_rows(meta, exp, data)
    X, y = train.drop(columns=[target]), train[target]
    algorithms = list(config.algorithms) if config.algorithms is not None else None
    algos = [a for a in get_algorithms(algorithms, task)
             if a.suits(task, len(X), bool(config.onnx_only), meta.schema)[0]]
    space = SearchSpace(X=X, y=y, schema=meta.schema, task=task, metric=get_metric(meta.metric, task),
                        algorithms=algos, classes=list(meta.classes), positive=meta.positive_class,
                        cv_folds=config.cv_folds, seed=config.seed)
    return Objective(space, Budget.until(meta.search_deadline), should_stop=should_stop, n_jobs=n_jobs)


def _training_rows(meta: ExperimentMeta, exp: Experiment | None, data) -> pd.DataFrame:
    """``--data`` or the folder's train.parquet; must be exactly the leader's training rows."""
    from automl.data import read_table

    if data is not None:
        frame = read_table(data)
    elif exp is not None:
        frame = exp.read_frame(ex.TRAIN)
    else:
        raise AutoMLError("This machine cannot see the experiment folder, so it has no training rows.",
                          "Give --data: a copy of the experiment's train.parquet (or a path to it that this "
                          "machine can read).")
    expected = meta.rows.train
    if meta.target not in frame.columns or (expected is not None and len(frame) != expected):
        lacks = "" if meta.target in frame.columns else " and no target column"
        raise AutoMLError(f"The data has {len(frame)} rows{lacks}; the search trains on the experiment's "
                          f"{expected} training rows.",
                          "Give the experiment's train.parquet, not the original table: held-out rows must "
                          "never reach the search.")
    return frame


def _leader_done(exp: Experiment | None) -> str | None:
    """Why the leader's search is over, as seen in its folder (None: still searching, or not visible)."""
    if exp is None:
        return None
    if exp.cancel_requested:
        return "cancelled"
    if (exp.progress or {}).get("phase") == SEARCH_OVER or exp.status != ex.RUNNING:
        return "search finished"
    return None


def _stop_reason(study: optuna.Study, meta: ExperimentMeta, exp: Experiment | None, budget: Budget,
                 objective: Objective) -> str:
    done = _leader_done(exp)
    if done:
        return done
    if budget.total_s is not None and budget.search_remaining() <= objective.cheapest_step_seconds():
        return "deadline"
    budget_trials = meta.trial_budget
    if budget_trials is not None and started_trials(study) >= budget_trials:
        return "trial budget"
    return ""

