"""``automl.fit``: a table in, a completed experiment folder out.

This is what the CLI, the background worker and the tests call. It owns the
order of things (split, search, ensemble, refit, held-out evaluation, save);
each step lives in its own module.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import optuna
import pandas as pd
from sklearn.model_selection import train_test_split

from automl import experiment as ex
from automl._fit_config import FitConfig, check_against_data, check_storage, validate_fit_params
from automl.algorithms import get_algorithms
from automl.data import REGRESSION, Dataset, prepare_dataset, proba_class, read_table
from automl.errors import AutoMLError
from automl.evaluation import store_evaluation
from automl.experiment import Experiment, Workspace
from automl.final import finalize, full_refit_applies
from automl.metrics import get_metric, positive_class
from automl.monitor import build_reference, save_reference
from automl.search import (
    ENSEMBLE_RESERVE,
    SEARCH_OVER,
    Budget,
    CancellableBudget,
    Objective,
    ProgressReporter,
    RowSchedule,
    SearchSpace,
    enqueue_defaults,
    make_study,
    publish_setup,
    record_failures,
    stop_at_trial_budget,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)
Progress = Callable[[dict[str, Any]], None]


def fit(data: str | os.PathLike | bytes | pd.DataFrame | Dataset, target: str, *,
        workspace: str | os.PathLike | None = None, name: str | None = None, progress: Progress | None = None,
        experiment: Experiment | None = None, clock_start: float | None = None, **options: Any) -> Experiment:
    """Search, refit and evaluate; return the completed :class:`Experiment`.

    ``options`` are :class:`FitConfig` fields (time_budget, trials, metric, seed, …). ``data`` may be the
    :class:`Dataset` :func:`check_fit` returned for the same options, so a wide table is prepared once.
    ``clock_start``: the ``time.monotonic()`` reading the time budget counts from (default: now; a command
    passes its process's start, so its whole run keeps to the budget).
    Raises :class:`AutoMLError` for bad input; the experiment is then marked failed.
    """
    if isinstance(data, (str, os.PathLike)):
        options.setdefault("source", str(os.path.abspath(data)))
    try:  # every argument checked before an experiment exists
        validate_fit_params({"name": name})
        config = FitConfig(target=target, **options)
        check_storage(config.storage, experiment.path.parent if experiment else Workspace(workspace).root)
    except AutoMLError as err:
        if experiment is not None:  # created by the caller: never leave it queued
            raise ex.record_failure(experiment, err, searched=False) from None
        raise
    exp = experiment or Workspace(workspace).create(name=name, status=ex.RUNNING)
    # A cancel (the page's, or a stop signal's) ends the current fit at its next clock check.
    budget = CancellableBudget(config.time_budget, cancelled=lambda: exp.cancel_requested,
                               start=time.monotonic() if clock_start is None else clock_start)
    try:
        exp.update(status=ex.RUNNING, pid=os.getpid(), host=platform.node(), config=asdict(config),
                   started=ex.now_iso(), versions=library_versions())
        _phase(exp, budget, "reading and profiling the table")
        if isinstance(data, Dataset):
            if data.target != target:
                raise ValueError(f"the prepared dataset predicts '{data.target}', not '{target}'")
            dataset = data
        else:
            frame = data if isinstance(data, pd.DataFrame) else read_table(data)
            dataset = prepare_dataset(frame, target, task=config.task, cv_folds=config.cv_folds or 2,
                                      exclude=tuple(config.exclude))
            del frame
        check_against_data(config, dataset.y, None, dataset.task)
        _phase(exp, budget, "setting the held-out rows aside")
        train, hold = _split(dataset, config)
        check_against_data(config, train[target], hold[target], dataset.task)
        exp.write_frame(ex.TRAIN, train)
        exp.write_frame(ex.HOLDOUT, hold)
        return _search_and_finish(exp, dataset, train, hold, config, budget, progress, fresh=True)
    except BaseException as err:
        raised = ex.record_failure(exp, err, searched=bool(exp.progress.get("total")))
        if raised is err:
            raise
        raise raised from err


def check_fit(data: str | os.PathLike | bytes | pd.DataFrame, target: str, *,
              workspace: str | os.PathLike | None = None, name: str | None = None,
              **options: Any) -> tuple[pd.DataFrame, Dataset]:
    """Every check :func:`fit` makes before its search, without creating an experiment.

    Returns the table as read and the prepared :class:`Dataset` (its ``warnings`` are what the Data page
    shows). ``automl fit`` calls it before ``Workspace.create``, so a bad argument leaves nothing behind.
    """
    validate_fit_params({"name": name})
    config = FitConfig(target=target, **options)
    check_storage(config.storage, Workspace(workspace).root)
    frame = data if isinstance(data, pd.DataFrame) else read_table(data)
    dataset = prepare_dataset(frame, target, task=config.task, cv_folds=config.cv_folds or 2,
                              exclude=tuple(config.exclude))
    get_metric(config.metric, dataset.task)
    get_algorithms(config.algorithms, dataset.task)
    check_against_data(config, dataset.y, None, dataset.task)
    train, hold = _split(dataset, config)
    check_against_data(config, train[target], hold[target], dataset.task)
    return frame, dataset


def resume(exp: Experiment, *, time_budget: float | None = None, trials: int | None = None,
           progress: Progress | None = None) -> Experiment:
    """Continue a cancelled or interrupted experiment's study for another budget."""
    record = exp.record
    config = FitConfig(**{**record.config.to_dict(), "time_budget": time_budget, "trials": trials})
    budget = CancellableBudget(config.time_budget, cancelled=lambda: exp.cancel_requested)
    exp.clear_cancel()  # the cancel that stopped it before is done with
    exp.update(status=ex.RUNNING, pid=os.getpid(), host=platform.node(), config=asdict(config), error=None)
    try:
        train = exp.read_frame(ex.TRAIN)
        hold = exp.read_frame(ex.HOLDOUT)[list(train.columns)]
        dataset = prepare_dataset(pd.concat([train, hold]), config.target, task=record.task,
                                  cv_folds=config.cv_folds or 2, exclude=tuple(config.exclude))
        optuna.storages.fail_stale_trials(optuna.load_study(study_name=exp.id, storage=exp.storage_url))
        return _search_and_finish(exp, dataset, train, hold, config, budget, progress, fresh=False)
    except BaseException as err:
        raised = ex.record_failure(exp, err)
        if raised is err:
            raise
        raise raised from err


AUTO_FOLDS_ROWS = 10_000


def auto_folds(n_train: int) -> int:
    """5 folds on small tables, where the score is noisy and fits are cheap; 3 above ``AUTO_FOLDS_ROWS`` rows,
    where each fold is costly and the score already steady: on adult and bank-marketing this doubles the
    trials a 60 s budget runs. (Above 20,000 rows the search scores on one validation part instead, see
    automl.search.RowSchedule.)"""
    return 5 if n_train <= AUTO_FOLDS_ROWS else 3


def _split(dataset: Dataset, config: FitConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows and held-out rows (stratified for classification), target column included.

    With ``holdout_path`` the held-out rows are given (so two models are scored on the same rows)
    and every row of the table trains.
    """
    frame = dataset.X.assign(**{dataset.target: dataset.y})
    if config.holdout_path:
        hold = read_table(config.holdout_path)
        missing = [c for c in frame.columns if c not in hold.columns]
        if missing:
            raise AutoMLError(f"The held-out rows lack the column(s) {', '.join(missing)}.",
                              "Give held-out rows with the same columns as the training table.")
        return frame, hold[list(frame.columns)].dropna(subset=[dataset.target])
    stratify = dataset.y if dataset.task != REGRESSION else None
    train, hold = train_test_split(frame, test_size=config.holdout, random_state=config.seed, stratify=stratify)
    return train, hold


def _search_and_finish(exp: Experiment, dataset: Dataset, train: pd.DataFrame, hold: pd.DataFrame,
                       config: FitConfig, budget: Budget, progress: Progress | None, fresh: bool) -> Experiment:
    task, target = dataset.task, dataset.target
    metric = get_metric(config.metric, task)
    X, y = train.drop(columns=[target]), train[target]
    algos, left_out = [], {}
    for algo in get_algorithms(config.algorithms, task):
        ok, why = algo.suits(task, len(X), onnx_only=config.onnx_only, schema=dataset.schema)
        (algos.append(algo) if ok else left_out.__setitem__(algo.name, why))
    if not algos:
        raise AutoMLError(f"No chosen algorithm suits this table: {left_out}.",
                          "Choose LightGBM or HistGradientBoosting.")
    classes = sorted(y.unique().tolist()) if task != REGRESSION else []
    if config.cv_folds is None:
        config.cv_folds = auto_folds(len(y))
    if task != REGRESSION and y.value_counts().min() < config.cv_folds:
        smallest = y.value_counts()
        if smallest.min() < 2:
            raise AutoMLError(f"After holding out rows, class '{smallest.idxmin()}' has {smallest.min()} training row.",
                              "Remove or merge that class, or add rows for it.")
        exp.update(notes=[f"CV folds lowered from {config.cv_folds} to {smallest.min()}: class "
                          f"'{smallest.idxmin()}' has only {smallest.min()} training rows."])
        config.cv_folds = int(smallest.min())
    positive = positive_class(y) if task == "binary" else None
    exp.update(task=task, target=target, metric=metric.name, metric_greater_is_better=metric.greater_is_better,
               schema=dataset.schema.to_dict(), classes=classes, positive_class=positive,
               dropped_missing_target=dataset.dropped_missing_target, left_out=left_out,
               rows={"train": len(train), "holdout": len(hold)}, config=asdict(config))
    if full_refit_applies(config, len(X))[0]:
        # The optional refit on all rows is kept aside too: all of it where K-fold CV scores the trials (up to
        # 20,000 rows, where it is cheap and a fifth more rows helps most), half above (all of it there measured
        # +0.0002 AUC on adult and bank-marketing, the search ending earlier; levers.md).
        share = 0.5 if len(X) > RowSchedule.from_env().min_rows else 1.0
        budget.refits = 1.0 + share * (len(X) + len(hold)) / len(X)
    space = SearchSpace(X=X, y=y, schema=dataset.schema, task=task, metric=metric, algorithms=algos,
                        classes=classes, positive=positive, cv_folds=config.cv_folds, seed=config.seed)
    objective = Objective(space, budget, should_stop=lambda: exp.cancel_requested,
                          refit_members=ENSEMBLE_RESERVE if config.ensemble else 1)
    storage = config.storage or exp.storage_url
    if config.storage:
        exp.update(storage=config.storage)
    n_defaults = sum(len(a.defaults) + len(a.log_link_defaults) * space.log_link for a in algos)
    study = make_study(storage, exp.id, metric, config.seed, n_defaults)
    if fresh and not study.trials:
        enqueue_defaults(study, algos, log_link=space.log_link)
    # Workers on other machines stop at this wall-clock time (the leader keeps its own, refit-aware clock).
    exp.update(search_deadline=None if budget.total_s is None else time.time() + budget.search_remaining(),
               trial_budget=config.trials, study_name=exp.id)
    publish_setup(study, exp.record)
    # A resumed study's trial budget comes on top of the trials it already ran.
    already = sum(t.state != optuna.trial.TrialState.WAITING for t in study.get_trials(deepcopy=False))
    reporter = ProgressReporter(exp, budget, config.cv_folds, config.trials, progress, metric.greater_is_better,
                                 rows=_rows(exp))
    stop = stop_at_trial_budget(None if config.trials is None else already + config.trials)
    _phase(exp, budget, "first trials (known-good defaults)" if fresh else "resuming the search")
    study.optimize(record_failures(objective), n_trials=config.trials, callbacks=[reporter, stop],
                   timeout=None if budget.total_s is None else max(budget.search_remaining(), 0.1),
                   catch=(Exception,), gc_after_trial=False)
    reporter.report(study, phase=SEARCH_OVER)
    cancelled = exp.cancel_requested
    if cancelled and not _refit_affordable(study, budget, config.cv_folds, len(X)):
        return _cancelled_unrefit(exp, budget, study)
    exp = finalize(exp, study, objective, space, X, y, hold, config, budget, cancelled=cancelled,
                   on_saved=lambda saved, holdout: _save_reference(saved, holdout, X, y, space))
    if exp.has_model:  # the held-out figures every view reads, scored once now (a failure here: once, later)
        try:
            store_evaluation(exp)
        except AutoMLError:
            pass
    return exp


def _save_reference(exp: Experiment, holdout: pd.DataFrame, X: pd.DataFrame, y: pd.Series, space) -> None:
    """The training reference for monitoring. Its prediction distribution comes from the held-out rows:
    predictions on training rows are over-confident and would make every new batch look drifted."""
    if space.task == "regression":
        preds = holdout["prediction"].rename("prediction")
    else:
        preds = holdout[[c for c in holdout.columns if proba_class(c) is not None]]
        preds.columns = [proba_class(c) for c in preds.columns]
    save_reference(exp, build_reference(X, space.schema, preds, space.task, seed=space.seed, target=y,
                                        positive_class=space.positive))


def _phase(exp: Experiment, budget: Budget, text: str) -> None:
    """Say what the run is doing before the first trial reports, so the page never shows a silent 'starting'."""
    exp.write_json(ex.PROGRESS, {**exp.progress, "phase": text, "elapsed_s": round(budget.elapsed(), 2),
                                 "budget_s": budget.total_s, "updated": ex.now_iso(),
                                 "remaining_s": None if budget.total_s is None else round(budget.remaining(), 2)})


def _rows(exp: Experiment) -> int:
    return int(exp.record.rows.train or 0)


def _refit_affordable(study: optuna.Study, budget: CancellableBudget, folds: int, rows: int) -> bool:
    """After a cancel: whether the best trial's refit fits in the grace left (about 10 s)."""
    try:
        best = study.best_trial
    except ValueError:
        return True  # nothing to refit: finalize records the cancel
    return budget.refit_affordable(best.user_attrs.get("fold_seconds", 0.0), folds, rows)


def _cancelled_unrefit(exp: Experiment, budget: CancellableBudget, study: optuna.Study) -> Experiment:
    done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
    note = (f"Cancelled after {done} completed trials; refitting the best would take longer than the "
            f"{budget.grace_s:.0f} s a cancel allows. The trials are kept in the study: resume it to refit.")
    exp.update(status=ex.CANCELLED, finished=ex.now_iso(), notes=[*exp.record.notes, note],
               timing={"budget_s": budget.total_s, "elapsed_s": round(budget.elapsed(), 2), "trials": done})
    return exp


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("automl-dashboard", "scikit-learn", "lightgbm", "optuna", "pandas", "numpy", "shap", "streamlit",
                "skops", "skl2onnx", "onnxmltools", "onnxruntime", "fastapi"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
