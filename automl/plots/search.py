"""Figures of the search: optimisation history, parameter importances, slice plots per algorithm.

They read an Optuna study (any storage, so every worker's trials count) or a
list of trial dicts (``leaderboard.trial_rows(...).to_dict("records")`` or
``{"number", "state", "value", "params"}``). The space is conditional: the
categorical ``algorithm`` picks an algorithm, whose params are named
``<algorithm>:<param>``; slices and importances are therefore per algorithm.
None of these raises on a study with 0 or 1 trials, pruned or failed ones.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import optuna
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from automl.plots.evaluation import HEIGHT, TEMPLATE, style

MIN_TRIALS_IMPORTANCE = 8  # fANOVA on fewer completed trials ranks noise
MIN_SLICE_TRIALS = 5  # per algorithm: fewer dots per panel show no trend
SLICE_COLUMNS = 2  # panels stay readable on a phone (390 px): four per row made their axis titles collide


def _label(algorithm: str) -> str:
    from automl.algorithms import ALGORITHMS

    return ALGORITHMS[algorithm].label if algorithm in ALGORITHMS else algorithm


def trials_frame(source: Any) -> pd.DataFrame:
    """One row per trial: number, state (lower case), value, algorithm, params (unprefixed), last_step_value."""
    rows = []
    raw = source.get_trials(deepcopy=False) if isinstance(source, optuna.Study) else list(source or [])
    for t in raw:
        if isinstance(t, optuna.trial.FrozenTrial):
            d = {"number": t.number, "state": t.state.name, "value": t.value, "params": t.params,
                 "user_params": t.user_attrs.get("params") or {},
                 "last": t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None}
        else:
            d = dict(t)
        params = d.get("params") or {}
        params = json.loads(params) if isinstance(params, str) else dict(params)
        algorithm = d.get("algorithm") or params.get("algorithm") or ""
        flat = {k.split(":", 1)[1] if ":" in k else k: v for k, v in params.items() if k != "algorithm"}
        flat.update(d.get("user_params") or {})
        state = d.get("state", "complete")
        rows.append({"number": int(d.get("number", d.get("trial", len(rows)))),
                     "state": (state.name if hasattr(state, "name") else str(state)).lower(),
                     "value": d.get("value", d.get("score")), "algorithm": str(algorithm), "params": flat,
                     "last_step_value": d.get("last")})
    frame = pd.DataFrame(rows, columns=["number", "state", "value", "algorithm", "params", "last_step_value"])
    return frame.sort_values("number", kind="stable").reset_index(drop=True)


def _greater(source: Any, greater_is_better: bool | None) -> bool:
    if greater_is_better is not None:
        return greater_is_better
    if isinstance(source, optuna.Study):
        return source.direction == optuna.study.StudyDirection.MAXIMIZE
    return True


def _empty(title: str, message: str, x: str = "Trial", y: str = "Score") -> go.Figure:
    fig = style(go.Figure(), title, x, y)
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def history_figure(source: Any, greater_is_better: bool | None = None, metric_label: str = "CV score") -> go.Figure:
    """Each completed trial's score coloured by algorithm, pruned ones as grey crosses, the best so far as a line."""
    trials = trials_frame(source)
    counts = trials["state"].value_counts()
    parts = [f"{int(counts[s])} {s}" for s in ("complete", "pruned", "fail", "running") if counts.get(s, 0)]
    title = "Optimization history" + (f" ({', '.join(parts)})" if parts else "")
    done = trials[(trials["state"] == "complete") & trials["value"].notna()]
    if done.empty:
        return _empty(title, "No completed trial yet.", "Trial", metric_label)
    fig = go.Figure()
    for algorithm, part in done.groupby("algorithm", sort=False):
        fig.add_trace(go.Scatter(x=part["number"], y=part["value"], mode="markers", name=_label(algorithm),
                                 customdata=np.array([[json.dumps(p, default=str)[:300]] for p in part["params"]]),
                                 hovertemplate=f"Trial %{{x}}<br>{metric_label} %{{y:.4g}}<br>%{{customdata[0]}}"
                                               f"<extra>{_label(algorithm)}</extra>"))
    pruned = trials[(trials["state"] == "pruned") & trials["last_step_value"].notna()]
    if len(pruned):
        fig.add_trace(go.Scatter(x=pruned["number"], y=pruned["last_step_value"], mode="markers", name="Pruned",
                                 marker={"symbol": "x", "color": "#bbbbbb", "size": 7},
                                 hovertemplate="Trial %{x} (pruned)<br>Last fold mean %{y:.4g}<extra></extra>"))
    values = done["value"].astype(float).to_numpy()
    best = np.maximum.accumulate(values) if _greater(source, greater_is_better) else np.minimum.accumulate(values)
    fig.add_trace(go.Scatter(x=done["number"], y=best, mode="lines", name="Best so far", line_shape="hv",
                             line={"color": "#333333", "width": 2},
                             hovertemplate=f"Trial %{{x}}<br>Best {metric_label} %{{y:.4g}}<extra></extra>"))
    return style(fig, title, "Trial", metric_label)


def param_importances(study: Any) -> tuple[pd.DataFrame | None, str]:
    """Importances over all completed trials (``algorithm`` included) and within each algorithm.

    Returns (table with scope, param, importance, trials; or None, and a reason or a caveat).
    """
    if not isinstance(study, optuna.Study):
        return None, "Parameter importances need the Optuna study itself, not a list of trials."
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(done) < MIN_TRIALS_IMPORTANCE:
        return None, f"Parameter importances need at least {MIN_TRIALS_IMPORTANCE} completed trials; " \
                     f"{len(done)} so far."
    rows, caveats = [], set()
    scopes = [("all trials", done)] + [(a, [t for t in done if t.params.get("algorithm") == a])
                                       for a in sorted({t.params.get("algorithm") for t in done} - {None})]
    for scope, trials in scopes:
        names = _varying(trials, None if scope == "all trials" else f"{scope}:")
        if len(trials) < MIN_TRIALS_IMPORTANCE or not names:
            continue
        sub = optuna.create_study(direction=study.direction)
        sub.add_trials(trials)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                found = optuna.importance.get_param_importances(sub, params=names)
            except Exception as err:  # optuna refuses some tiny or degenerate sets
                caveats.add(f"{scope}: {err}")
                continue
        caveats.update(str(w.message).split(".")[0] for w in caught if "too small" in str(w.message))
        rows += [{"scope": scope, "param": p, "importance": float(v), "trials": len(trials)} for p, v in found.items()]
    if not rows:
        return None, "No parameter varied across enough completed trials to compare." + \
                     (f" ({'; '.join(sorted(caveats))})" if caveats else "")
    return pd.DataFrame(rows), "; ".join(sorted(caveats))


def _varying(trials: list, prefix: str | None) -> list[str]:
    """Params (of one algorithm when ``prefix``) that take more than one value (or are absent) across ``trials``."""
    if not trials:
        return []
    present = set.union(*(set(t.params) for t in trials))
    names = [p for p in sorted(present) if prefix is None or p.startswith(prefix)]
    return [p for p in names
            if len({json.dumps(t.params.get(p, "(absent)"), default=str) for t in trials}) > 1]


def importance_figure(study: Any, scope: str = "all trials", top: int = 15) -> tuple[go.Figure | None, str]:
    """Horizontal bars of the ``top`` importances in ``scope`` ("all trials" or an algorithm name)."""
    table, note = param_importances(study)
    if table is None:
        return None, note
    part = table[table["scope"] == scope]
    if part.empty:
        return None, f"No importances for '{scope}' (too few completed trials vary its parameters)."
    if len(part) < 2:  # one bar ("algorithm", 1.0) compares nothing
        return None, (f"Only {part['param'].iloc[0]} varied across enough completed trials in {scope}; "
                      "parameter importance needs at least two parameters to compare.")
    part = part.sort_values("importance", ascending=False).head(top).iloc[::-1]
    colours = ["#e45756" if p == "algorithm" else "#4c78a8" for p in part["param"]]
    fig = go.Figure(go.Bar(x=part["importance"], y=part["param"], orientation="h", marker_color=colours,
                           customdata=part[["trials"]], name="Importance",
                           hovertemplate="%{y}<br>Importance %{x:.3f}<br>from %{customdata[0]} trials<extra></extra>"))
    title = "Parameter importance" + ("" if scope == "all trials" else f" within {_label(scope)}")
    fig = style(fig, title, "Importance (share of the total)", "Parameter")
    fig.update_layout(height=max(HEIGHT, 22 * len(part) + 120))
    return fig, note


def slice_figures(source: Any, metric_label: str = "CV score",
                  skipped: dict[str, str] | None = None) -> dict[str, go.Figure]:
    """Per algorithm with ``MIN_SLICE_TRIALS`` completed trials, score against each parameter that varied,
    coloured by trial number; ``skipped`` receives, per algorithm left out, the reason."""
    trials = trials_frame(source)
    done = trials[(trials["state"] == "complete") & trials["value"].notna()]
    figures, skipped = {}, {} if skipped is None else skipped
    for algorithm, part in done.groupby("algorithm", sort=False):
        if len(part) < MIN_SLICE_TRIALS:
            skipped[algorithm] = f"{len(part)} completed trial{'s' * (len(part) != 1)}"
            continue
        params = pd.DataFrame(list(part["params"]), index=part.index)
        names = [c for c in params.columns if params[c].astype(str).nunique() > 1]  # a constant shows nothing
        if not names:
            skipped[algorithm] = "no parameter varied"
            continue
        cols = min(SLICE_COLUMNS, len(names))
        nrows = -(-len(names) // cols)
        fig = make_subplots(rows=nrows, cols=cols, shared_yaxes=True, horizontal_spacing=0.04,
                            vertical_spacing=0.22 if nrows > 1 else 0.1)
        for i, name in enumerate(names):
            r, c = i // cols + 1, i % cols + 1
            x = params[name]
            numeric = pd.api.types.is_numeric_dtype(x.dropna()) and not pd.api.types.is_bool_dtype(x.dropna())
            fig.add_trace(go.Scatter(
                x=x if numeric else x.astype(object).where(x.notna(), "None").map(str), y=part["value"],
                mode="markers", showlegend=False, name=name,
                marker={"color": part["number"], "colorscale": "Viridis", "size": 7, "line": {"width": 0.5},
                        "showscale": i == 0, "colorbar": {"title": {"text": "Trial"}}},
                customdata=part[["number"]],
                hovertemplate=f"Trial %{{customdata[0]}}<br>{name} %{{x}}<br>{metric_label} %{{y:.4g}}<extra></extra>"),
                row=r, col=c)
            values = x.dropna()
            log = numeric and len(values) and values.min() > 0 and values.max() / values.min() > 100
            fig.update_xaxes(title_text=name, type="log" if log else None, row=r, col=c)
        fig.update_yaxes(title_text=metric_label, col=1)
        fig.update_layout(template=TEMPLATE, height=HEIGHT if nrows == 1 else 300 * nrows,
                          title={"text": f"Slice plot: {_label(algorithm)} ({len(part)} completed trials)",
                                 "x": 0.02},
                          margin={"l": 60, "r": 20, "t": 55, "b": 50})
        figures[algorithm] = fig
    return figures


def search_figures(source: Any, greater_is_better: bool | None = None,
                   metric_label: str = "CV score") -> tuple[dict[str, go.Figure], dict[str, str]]:
    """Every search figure that can be drawn, and for the others (or caveats) a sentence why."""
    figures = {"history": history_figure(source, greater_is_better, metric_label)}
    notes = {}
    importance, note = importance_figure(source)
    if importance is not None:
        figures["importance"] = importance
    if note:
        notes["importance"] = note
    skipped: dict[str, str] = {}
    figures.update({f"slice:{a}": f for a, f in slice_figures(source, metric_label, skipped).items()})
    if skipped:
        notes["slices"] = (f"No slice plot for {', '.join(f'{_label(a)} ({why})' for a, why in skipped.items())}: "
                           f"a slice plot needs at least {MIN_SLICE_TRIALS} completed trials of an algorithm "
                           "whose parameters vary.")
    return figures, notes
