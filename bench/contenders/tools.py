"""AutoML tools, each called the way its documentation shows, with the budget, metric and two cores."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd

from bench.contenders import N_JOBS, Output, Task


def ours(t: Task, **options) -> Output:
    """``automl.fit`` on the training rows with its defaults, as ``automl fit`` runs it (it keeps its own 20%
    held-out rows for its report); the model it ships is scored on the benchmark's test rows."""
    import automl

    exp = automl.fit(t.train, t.target, time_budget=t.budget, seed=t.seed, workspace=t.workdir,
                     task=t.task, metric=t.metric, **options)
    model = exp.load_model()
    timing, best = exp.meta.get("timing", {}), exp.meta.get("best", {})
    board = exp.meta.get("leaderboard") or []
    ensemble = (exp.meta.get("model") or {}).get("ensemble") or {}
    extra = {"model": (exp.meta.get("model") or {}).get("algorithm"), "best_algorithm": best.get("algorithm"),
             "models": sorted({str(r.get("algorithm")) for r in board if r.get("algorithm")}),
             "ensemble_members": ensemble.get("members") if isinstance(ensemble, dict) else None,
             "cv_score": best.get("cv_score"), "inner_holdout": (exp.meta.get("holdout") or {}).get(t.metric),
             "trained_on": (exp.meta.get("model") or {}).get("trained_on"),
             "search_s": timing.get("search_s"), "refit_s": timing.get("refit_s"),
             "trials_complete": timing.get("trials_complete"), "trials_pruned": timing.get("trials_pruned")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if t.task == "regression":
            return Output(np.asarray(model.predict(t.test_X), dtype=float), trials=timing.get("trials"), extra=extra)
        return Output(model.predict_proba(t.test_X), list(model.classes_), timing.get("trials"), extra)


def ours_train_rows(t: Task) -> Output:
    """Our engine shipping the model fitted on its training rows only (no refit on all rows): the lever's
    before/after."""
    return ours(t, refit_full=False)


def ours_cv3(t: Task) -> Output:
    """Our engine with 3 CV folds: for tables with a class too rare for 5 folds, and cheaper trials."""
    return ours(t, cv_folds=3)


def flaml(t: Task) -> Output:
    """FLAML's AutoML with the same metric, budget and cores; everything else at its defaults."""
    from flaml import AutoML

    X, y = t.train.drop(columns=[t.target]), t.train[t.target]
    m = AutoML()
    m.fit(X, y, task="regression" if t.task == "regression" else "classification", metric=t.metric,
          time_budget=t.budget, n_jobs=N_JOBS, seed=t.seed, verbose=0,
          log_file_name=os.path.join(t.workdir, "flaml.log"), log_type="all")
    trials, learners = _flaml_trials(os.path.join(t.workdir, "flaml.log"))
    extra = {"best_algorithm": m.best_estimator, "cv_score": m.best_loss, "models": learners}
    if t.task == "regression":
        return Output(np.asarray(m.predict(t.test_X), dtype=float), trials=trials, extra=extra)
    return Output(m.predict_proba(t.test_X), list(m.classes_), trials, extra)


def _flaml_trials(log: str) -> tuple[int | None, list[str]]:
    """Trials FLAML ran and the learners it tried: one JSON line per trial with log_type="all"
    (config_history keeps only improvements)."""
    import json

    trials, learners = 0, set()
    try:
        with open(log) as f:
            for line in f:
                if '"record_id"' not in line or '"curr_best_record_id"' in line:
                    continue
                trials += 1
                try:
                    learners.add(str(json.loads(line).get("learner")))
                except ValueError:
                    pass
    except OSError:
        return None, []
    return trials, sorted(learners)


def autogluon(t: Task) -> Output:
    """AutoGluon-Tabular with its default (medium quality) preset and the time limit.

    Install it with its model families (``autogluon.tabular[lightgbm,catboost,xgboost]``): the bare package
    has no boosting models and trains only forests and kNN, far below its real level."""
    from autogluon.tabular import TabularPredictor

    problem = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}[t.task]
    metric = {"roc_auc": "roc_auc", "log_loss": "log_loss", "rmse": "root_mean_squared_error"}[t.metric]
    predictor = TabularPredictor(label=t.target, problem_type=problem, eval_metric=metric,
                                 path=os.path.join(t.workdir, "ag"), verbosity=0)
    predictor.fit(t.train, time_limit=t.budget, num_cpus=N_JOBS, num_gpus=0)
    board = predictor.leaderboard(silent=True)
    trials = len(board)
    extra = {"best_algorithm": predictor.model_best, "models": board["model"].astype(str).tolist(),
             "fit_time_s": round(float(board["fit_time"].sum()), 1) if "fit_time" in board else None}
    if t.task == "regression":
        return Output(np.asarray(predictor.predict(t.test_X), dtype=float), trials=trials, extra=extra)
    proba = predictor.predict_proba(t.test_X, as_multiclass=True)
    return Output(proba.to_numpy(), list(proba.columns), trials, extra)


def _numeric(train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Ordinal codes and median imputation, for tools that take a numeric matrix only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OrdinalEncoder

    cats = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    train, test = train.copy(), test.copy()
    for c in cats:
        train[c], test[c] = train[c].astype(str), test[c].astype(str)
    pre = ColumnTransformer([
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats),
        ("num", SimpleImputer(strategy="median"), [c for c in train.columns if c not in cats])])
    return pre.fit_transform(train), pre.transform(test)


def tpot(t: Task) -> Output:
    """TPOT's genetic search over scikit-learn pipelines, stopped at the budget."""
    import tpot as tp

    X, X_test = _numeric(t.train.drop(columns=[t.target]), t.test_X)
    y = t.train[t.target]
    minutes = t.budget / 60
    if t.task == "regression":
        m = tp.TPOTRegressor(max_time_mins=minutes, n_jobs=N_JOBS, random_state=t.seed)
        m.fit(X, y.to_numpy())
        return Output(np.asarray(m.predict(X_test), dtype=float))
    labels, codes = np.unique(y.astype(str), return_inverse=True)
    m = tp.TPOTClassifier(max_time_mins=minutes, n_jobs=N_JOBS, random_state=t.seed)
    m.fit(X, codes)
    return Output(m.predict_proba(X_test), [labels[int(c)] for c in m.classes_])


def pycaret(t: Task) -> Output:
    """PyCaret: compare its models within the budget, finalize the best on all training rows."""
    if t.task == "regression":
        from pycaret import regression as pc
    else:
        from pycaret import classification as pc
    pc.setup(data=t.train, target=t.target, session_id=t.seed, n_jobs=N_JOBS, verbose=False, html=False)
    sort = {"roc_auc": "AUC", "log_loss": "Accuracy", "rmse": "RMSE"}[t.metric]
    best = pc.finalize_model(pc.compare_models(sort=sort, budget_time=t.budget / 60 * 0.8, verbose=False))
    out = pc.predict_model(best, data=t.test_X, raw_score=True, verbose=False)
    if t.task == "regression":
        return Output(out["prediction_label"].to_numpy(dtype=float))
    cols = [c for c in out.columns if c.startswith("prediction_score_")]  # labels decoded by PyCaret
    return Output(out[cols].to_numpy(dtype=float), [c[len("prediction_score_"):] for c in cols])
