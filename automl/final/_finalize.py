"""After the search: pick the final model (best trial or an ensemble), refit, evaluate, save.

The ensemble is kept only if its out-of-fold score beats the best single
trial's and its members' refit fits in the time left; the held-out rows are
scored once, for the report, never to choose.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import optuna
import pandas as pd

from automl import experiment as ex
from automl.algorithms import ALGORITHMS, TimeUp
from automl.data import proba_column
from automl.experiment import ALL_ROWS, TRAINING_ROWS, Experiment
from automl.final._ensemble import WeightedEnsemble, greedy_selection, target_range
from automl.final._full_refit import Member, full_refit_applies, refit_all_rows, refit_seconds
from automl.final._refit import fit_final, fit_members
from automl.metrics import METRICS, Predictions
from automl.search import Budget, counts, leaderboard, trial_rows

LEADERBOARD_STORED = 50


def finalize(exp: Experiment, study: optuna.Study, objective, space, X: pd.DataFrame, y: pd.Series,
             hold: pd.DataFrame, config, budget: Budget, cancelled: bool = False,
             on_saved: Callable[[Experiment, pd.DataFrame], None] | None = None) -> Experiment:
    """Choose, refit and save the model; ``on_saved(exp, holdout_frame)`` runs once the model file is written
    and before the status says completed (the caller builds what later stages need, such as the monitoring
    reference, without this stage knowing about them)."""
    search_s = budget.elapsed()
    trials = trial_rows(study.get_trials(deepcopy=False))
    board = leaderboard(trials, space.metric.greater_is_better)
    status = ex.CANCELLED if cancelled else ex.COMPLETED
    if board.empty:
        if cancelled:
            exp.update(status=ex.CANCELLED, finished=ex.now_iso(), timing=_timing(budget, trials))
            return exp
        return _fallback(exp, objective, space, X, y, hold, budget, trials, search_s, on_saved)
    best = study.best_trial
    best_algo = ALGORITHMS[best.user_attrs["algorithm"]]
    best_params = best.user_attrs["params"]
    model, ensemble_info, ensemble_note, members = _choose_model(objective, space, board, budget, config, X, y)
    if model is None:
        model = fit_final(space, objective, best_algo.name, best_params, X, y)
        members = [Member(best_algo.name, best_params)]
    refit_s = budget.elapsed() - search_s
    holdout_frame, scores = _evaluate_holdout(model, hold, space)
    started = budget.elapsed()
    model, trained = _ship_all_rows(model, members, space, X, y, hold, config, budget, refit_s)
    full_refit_s = budget.elapsed() - started
    exp.save_model(model)
    exp.write_frame(ex.HOLDOUT, holdout_frame)
    if on_saved is not None:
        on_saved(exp, holdout_frame)
    exp.update(
        status=status, finished=ex.now_iso(),
        best={"algorithm": best_algo.name, "label": best_algo.label, "params": best_params,
              "cv_score": float(best.value), "cv_std": best.user_attrs.get("cv_std"), "trial": best.number},
        model={"kind": "ensemble" if ensemble_info else "single", "ensemble": ensemble_info,
               "algorithm": "ensemble" if ensemble_info else best_algo.name, "ensemble_note": ensemble_note,
               **trained},
        leaderboard=_board_records(board.head(LEADERBOARD_STORED)),
        holdout=scores, timing={**_timing(budget, trials), "search_s": round(search_s, 2),
                                "refit_s": round(refit_s, 2), "full_refit_s": round(full_refit_s, 2)},
    )
    return exp


def _ship_all_rows(model, members: list[Member], space, X, y, hold, config, budget: Budget,
                   refit_s: float) -> tuple[Any, dict[str, Any]]:
    """The model to ship, refit on all rows when that applies and fits the time left, and the record of
    which rows trained it (``trained_rows``, ``trained_on``, ``full_refit_note``)."""
    trained = {"trained_rows": len(X), "trained_on": TRAINING_ROWS}
    applies, why = full_refit_applies(config, len(X))
    if applies:
        # the model is written after this: its time is kept (a forest's trees take seconds in skops)
        save_s = sum(ALGORITHMS[m.algorithm].save_estimate(m.params, len(space.classes)) for m in members)
        needed = refit_seconds(refit_s, len(X), len(X) + len(hold)) + save_s
        if needed <= budget.remaining():
            try:  # optional: a machine slower than the estimate (busy) gets the training-rows model, on time
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    full = refit_all_rows(space, members, X, y, hold, time_left=lambda: budget.remaining() - save_s)
            except TimeUp:
                why = (f"it ran out of time (estimated {needed:.0f} s; the machine was slower than the search "
                       "measured), so the training-rows model ships, on time")
            else:
                return full, {"trained_rows": len(X) + len(hold), "trained_on": ALL_ROWS}
        else:
            why = (f"the refit on all rows would need about {needed:.0f} s; {max(budget.remaining(), 0):.0f} s "
                   "were left")
    return model, {**trained, "full_refit_note": why} if why else trained


def _fallback(exp: Experiment, objective, space, X, y, hold, budget: Budget, trials, search_s: float,
              on_saved: Callable[[Experiment, pd.DataFrame], None] | None) -> Experiment:
    """No trial finished its CV in time (a large table on a slow or busy machine): rather than leave the
    user with nothing, fit the first algorithm's first default on all training rows, and say so."""
    algo = space.algorithms[0]
    params = dict(algo.defaults[0]) if algo.defaults else {}
    model = fit_final(space, objective, algo.name, params, X, y)
    holdout_frame, scores = _evaluate_holdout(model, hold, space)
    exp.save_model(model)
    exp.write_frame(ex.HOLDOUT, holdout_frame)
    if on_saved is not None:
        on_saved(exp, holdout_frame)
    note = (f"No trial completed its cross-validation within the budget; the model is {algo.label} with its "
            "default settings, fitted without a search. Give a larger time budget for a real search.")
    exp.update(status=ex.COMPLETED, finished=ex.now_iso(), notes=[*exp.record.notes, note],
               best={"algorithm": algo.name, "label": algo.label, "params": params, "cv_score": None,
                     "cv_std": None, "trial": None},
               model={"kind": "single", "ensemble": None, "algorithm": algo.name, "trained_rows": len(X),
                      "trained_on": TRAINING_ROWS}, leaderboard=[],
               holdout=scores, timing={**_timing(budget, trials), "search_s": round(search_s, 2)})
    return exp


def _choose_model(objective, space, board: pd.DataFrame, budget: Budget, config, X, y):
    """An ensemble of the best trials when it beats the best one out of fold and its refit fits in the time left.

    When the blend's refit would not fit, its smallest-weight member is dropped and the blend chosen
    again from the others, so a time-tight search still gets the blend it can afford.
    Returns (model or None, ensemble info or None, a note saying why no ensemble or None, the members chosen).
    """
    if not config.ensemble:
        return None, None, "ensembling is off", []
    if len(objective.oof) < 2:
        return None, None, "fewer than two trials completed their cross-validation", []
    numbers = [n for n in board["trial"].tolist() if n in objective.oof][: len(objective.oof)]
    best_single = float(board.iloc[0]["score"])
    sign = 1 if space.metric.greater_is_better else -1
    span = target_range(space.y.to_numpy()) if space.task == "regression" else None
    while True:
        sel = greedy_selection([objective.oof[n] for n in numbers], objective.oof_target, space.metric, space.task,
                               space.classes, space.positive, span=span)
        if len(sel.members) < 2 or (sel.score - best_single) * sign <= 1e-4 * max(abs(best_single), 1e-12):
            return None, None, (f"no affordable blend of the best trials beat the best one out of fold "
                                f"({sel.score:.6g} vs {best_single:.6g})"), []
        seconds = sum(objective.oof_fold_seconds.get(numbers[i], 0.0) for i in sel.members)
        save_s = sum(objective.oof_save_seconds.get(numbers[i], 0.0) for i in sel.members)
        # the refit and the writing of the file; the all-rows refit is optional
        needed = budget.refit_estimate(seconds, config.cv_folds, len(X)) + save_s
        if budget.remaining() >= needed:
            break
        if len(sel.members) == 2:
            return None, None, (f"the blend ({sel.score:.6g} out of fold) would need {needed:.1f} s to refit; "
                                f"{max(budget.remaining(), 0):.1f} s were left"), []
        lightest = min(zip(sel.weights, sel.members))[1]
        numbers = [n for i, n in enumerate(numbers) if i != lightest]
    rows = board.set_index("trial")
    chosen, info = [], []
    for i, w in zip(sel.members, sel.weights):
        row = rows.loc[numbers[i]]
        chosen.append(Member(row["algorithm"], _params_of(row), w))
        info.append({"trial": int(numbers[i]), "algorithm": row["algorithm"], "weight": round(w, 4)})
    fitted = fit_members(space, objective, chosen, X, y)
    model = WeightedEnsemble(fitted, [m.weight for m in chosen], space.task, span)._set_fitted()
    return model, {"members": info, "oof_score": sel.score, "best_single_oof": best_single}, None, chosen


def _params_of(row: pd.Series) -> dict[str, Any]:
    import json

    return json.loads(row["params"])


def _evaluate_holdout(model, hold: pd.DataFrame, space) -> tuple[pd.DataFrame, dict[str, float]]:
    target = space.y.name
    X_hold, y_hold = hold.drop(columns=[target]), hold[target]
    frame = hold.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame["prediction"] = model.predict(X_hold)
        if space.task == "regression":
            pred = Predictions(y_hold.to_numpy(), frame["prediction"].to_numpy())
        else:
            proba = model.predict_proba(X_hold)
            for j, c in enumerate(model.classes_):
                frame[proba_column(c)] = proba[:, j]
            pred = Predictions(y_hold.to_numpy(), frame["prediction"].to_numpy(), proba,
                               list(model.classes_), space.positive)
    scores = {}
    for name, metric in METRICS.items():
        if space.task in metric.tasks and metric.optimisable:  # the held-out report stores what search can optimise
            try:
                scores[name] = metric.score(pred)
            except ValueError:  # e.g. a class absent from a tiny held-out split
                scores[name] = None
    return frame, scores


def _timing(budget: Budget, trials: pd.DataFrame) -> dict[str, Any]:
    states = counts(trials)
    return {"budget_s": budget.total_s, "elapsed_s": round(budget.elapsed(), 2), "trials": states["total"],
            **{f"trials_{k}": v for k, v in states.items() if k != "total"}}


def _board_records(board: pd.DataFrame) -> list[dict[str, Any]]:
    out = board.drop(columns=["started", "finished"]).copy()
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict(orient="records")
