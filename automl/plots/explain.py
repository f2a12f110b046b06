"""Explanation figures (Plotly) for the Explain page and the HTML report.

Built from :mod:`automl.explain` / :mod:`automl.explain_views` data only. SHAP colours
follow shap's own: red pushes the output up, blue pushes it down; in beeswarm and
dependence plots blue -> red means feature value low -> high.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from automl.explain import (
    DependenceData,
    Explanation,
    LocalExplanation,
    PermutationImportance,
    beeswarm_data,
    global_importance,
    value_text,
)
from automl.plots.evaluation import style

HEIGHT = 420
UP, DOWN, NEUTRAL, MISSING = "#ff0051", "#008bfb", "#6366f1", "#b0b0b0"
VALUE_SCALE = [[0.0, DOWN], [1.0, UP]]
MAX_DEPENDENCE_POINTS = 5000


def _style(fig: go.Figure, title: str, x: str, y: str, **layout: Any) -> go.Figure:
    """The evaluation figures' look, a little taller for feature lists."""
    return style(fig, title, x, y, height=HEIGHT, **layout)


def _rows_note(explanation: Explanation) -> str:
    if explanation.n_rows_used < explanation.n_rows_total:
        return f" ({explanation.n_rows_used:,} of {explanation.n_rows_total:,} rows)"
    return f" ({explanation.n_rows_used:,} rows)"


def importance_figure(explanation: Explanation, top: int = 20) -> go.Figure:
    """Mean |SHAP| per original column, largest on top."""
    table = global_importance(explanation).head(top)
    fig = go.Figure(go.Bar(
        x=table["mean_abs_shap"], y=table["feature"], orientation="h", marker_color=NEUTRAL,
        customdata=np.column_stack([table["share"] * 100]),
        hovertemplate="%{y}<br>mean |SHAP| %{x:.4g}<br>%{customdata[0]:.1f}% of the total<extra></extra>"))
    _style(fig, f"Feature importance{_rows_note(explanation)}", f"mean |SHAP value| ({explanation.output})",
           "feature")
    fig.update_yaxes(autorange="reversed")
    return fig


def beeswarm_figure(explanation: Explanation, top: int = 20, max_points: int = 2000, seed: int = 0) -> go.Figure:
    """One jittered strip per feature: SHAP value on x, colour = the feature's value low -> high."""
    data = beeswarm_data(explanation, top=top, max_points=max_points, seed=seed)
    n = int(data["rank"].max()) + 1 if len(data) else 0
    data = data.assign(y=(n - 1 - data["rank"]) + _jitter(data, np.random.default_rng(seed)))
    coloured, missing = data[data["colour"].notna()], data[data["colour"].isna()]
    hover = "%{customdata[0]} = %{customdata[1]}<br>SHAP %{x:.4g}<extra></extra>"
    fig = go.Figure()
    fig.add_trace(go.Scattergl(
        x=coloured["shap"], y=coloured["y"], mode="markers", name="value",
        customdata=coloured[["feature", "value"]].to_numpy(), hovertemplate=hover,
        marker={"size": 4, "color": coloured["colour"], "colorscale": VALUE_SCALE, "cmin": 0, "cmax": 1,
                "colorbar": {"title": {"text": "feature value"}, "tickvals": [0, 1], "ticktext": ["low", "high"],
                             "thickness": 12}}))
    if len(missing):
        fig.add_trace(go.Scattergl(x=missing["shap"], y=missing["y"], mode="markers", name="missing value",
                                   customdata=missing[["feature", "value"]].to_numpy(), hovertemplate=hover,
                                   marker={"size": 4, "color": MISSING}))
    order = data.drop_duplicates("rank").sort_values("rank")["feature"].tolist()
    _style(fig, f"SHAP values per row{_rows_note(explanation)}", f"SHAP value ({explanation.output})", "feature",
           showlegend=False)
    fig.update_yaxes(tickvals=[n - 1 - r for r in range(len(order))], ticktext=order, zeroline=False)
    fig.add_vline(x=0, line={"color": "#999999", "width": 1})
    return fig


def _jitter(data: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Vertical spread proportional to how crowded a point's SHAP bin is, so dense regions look wide."""
    out = np.zeros(len(data))
    for _, idx in data.groupby("rank").indices.items():
        values = data["shap"].to_numpy()[idx]
        span = values.max() - values.min()
        if span <= 0:
            out[idx] = rng.uniform(-0.35, 0.35, len(idx))
            continue
        bins = np.minimum(((values - values.min()) / span * 40).astype(int), 39)
        density = np.bincount(bins, minlength=40)[bins] / np.bincount(bins).max()
        out[idx] = rng.uniform(-1, 1, len(idx)) * 0.4 * np.sqrt(density)
    return out


def waterfall_figure(local: LocalExplanation, top: int = 12) -> go.Figure:
    """From the base value to this row's prediction: one bar per feature (largest |SHAP| nearest the result)."""
    order = np.argsort(-np.abs(local.values), kind="stable")
    shown, rest = order[:top], order[top:]
    labels = [f"{local.features[i]} = {value_text(local.raw.get(local.features[i]))}" for i in shown]
    steps = [float(local.values[i]) for i in shown]
    if len(rest):
        labels.append(f"other {len(rest)} features")
        steps.append(float(local.values[rest].sum()))
    labels, steps = labels[::-1], steps[::-1]  # plotly draws the first category at the bottom
    fig = go.Figure(go.Waterfall(
        orientation="h", base=local.base_value, measure=["relative"] * len(steps) + ["total"],
        y=labels + ["prediction"], x=steps + [0.0],
        increasing={"marker": {"color": UP}}, decreasing={"marker": {"color": DOWN}},
        totals={"marker": {"color": NEUTRAL}}, connector={"line": {"color": "#cccccc", "width": 1}},
        text=[f"{s:+.3g}" for s in steps] + [f"{local.prediction:.4g}"], textposition="auto",
        hovertemplate="%{y}<br>%{text}<extra></extra>"))
    fig.add_vline(x=local.base_value, line={"color": "#999999", "dash": "dash", "width": 1},
                  annotation_text=f"base value {local.base_value:.4g}", annotation_position="top right")
    ends = local.base_value + np.cumsum([0.0, *steps])
    lo, hi = float(ends.min()), float(ends.max())
    pad = 0.15 * (hi - lo) if hi > lo else 1.0  # room for the value labels beside small bars
    fig.update_xaxes(range=[lo - pad, hi + pad])
    shown_as = f" - predicted {value_text(local.predicted)}" if local.predicted is not None else ""
    _style(fig, f"Why this prediction: {local.prediction:.4g}{shown_as}", local.output, "feature = value",
           showlegend=False)
    return fig


def dependence_figure(dep: DependenceData, seed: int = 0) -> go.Figure:
    """The feature's value against its SHAP value, coloured by the feature it interacts with most."""
    n = len(dep.shap)
    rows = np.sort(np.random.default_rng(seed).choice(n, MAX_DEPENDENCE_POINTS, replace=False)) \
        if n > MAX_DEPENDENCE_POINTS else np.arange(n)
    x_raw = dep.x.iloc[rows]
    ticks: dict[str, Any] = {}
    if dep.kind in ("numeric", "datetime"):
        x = pd.to_datetime(x_raw, errors="coerce", format="mixed") if dep.kind == "datetime" \
            else pd.to_numeric(x_raw, errors="coerce")
    else:
        text = x_raw.map(value_text)
        cats = pd.Series(dep.shap[rows]).groupby(text.to_numpy()).mean().sort_values().index.tolist()
        pos = text.map({c: i for i, c in enumerate(cats)}).to_numpy(dtype=float)
        x = pos + np.random.default_rng(seed).uniform(-0.25, 0.25, len(pos))
        ticks = {"tickvals": list(range(len(cats))), "ticktext": cats}
    other = dep.interaction_x.iloc[rows].map(value_text).to_numpy() if dep.interaction else np.full(len(rows), "")
    marker: dict[str, Any] = {"size": 5, "color": NEUTRAL, "opacity": 0.8}
    if dep.interaction is not None:
        colour = dep.interaction_colour[rows]
        marker.update(color=np.where(np.isnan(colour), 0.5, colour), colorscale=VALUE_SCALE, cmin=0, cmax=1,
                      colorbar={"title": {"text": f"{dep.interaction}"}, "tickvals": [0, 1],
                                "ticktext": ["low", "high"], "thickness": 12})
    custom = np.column_stack([x_raw.map(value_text).to_numpy(), other])
    hover = f"{dep.feature} = %{{customdata[0]}}<br>SHAP %{{y:.4g}}"
    hover += f"<br>{dep.interaction} = %{{customdata[1]}}" if dep.interaction else ""
    fig = go.Figure(go.Scattergl(x=x, y=dep.shap[rows], mode="markers", marker=marker, customdata=custom,
                                 hovertemplate=hover + "<extra></extra>"))
    coloured = f", coloured by {dep.interaction}" if dep.interaction else ""
    _style(fig, f"Dependence on {dep.feature}{coloured}", dep.feature, f"SHAP value ({dep.output})", showlegend=False)
    fig.update_xaxes(**ticks)
    fig.add_hline(y=0, line={"color": "#999999", "width": 1})
    return fig


def permutation_figure(perm: PermutationImportance, top: int = 20) -> go.Figure:
    """Drop in the metric when a column is shuffled (mean and std over repeats)."""
    table = perm.table.set_index("feature").head(top)
    fig = go.Figure(go.Bar(x=table["importance_mean"], y=table.index.tolist(), orientation="h",
                           marker_color="#10b981",
                           error_x={"type": "data", "array": table["importance_std"].to_numpy(), "visible": True},
                           customdata=table[["importance_std"]].to_numpy(), name="permutation",
                           hovertemplate="%{y}<br>drop %{x:.4g} ± %{customdata[0]:.2g}<extra></extra>"))
    _style(fig, f"Permutation importance on {perm.n_rows_used:,} held-out rows ({perm.n_repeats} repeats)",
           f"drop in {perm.metric_label} when shuffled", "feature")
    fig.update_yaxes(autorange="reversed")
    return fig
