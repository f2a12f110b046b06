"""Fairness figures: per sensitive column, a grouped bar chart of each metric per group."""

from __future__ import annotations

import plotly.graph_objects as go

from automl.evaluation import CLASS_METRICS, REGRESSION_METRICS, FairnessReport, GroupFairness
from automl.plots.evaluation import style


def fairness_figure(group: GroupFairness, task: str = "binary") -> go.Figure:
    """Bars: one cluster per metric, one bar per group; hover gives the value and the group's size."""
    metrics = REGRESSION_METRICS if task == "regression" else CLASS_METRICS
    metrics = {k: v for k, v in metrics.items() if k in group.table.columns}
    fig = go.Figure()
    for _, row in group.table.iterrows():
        fig.add_trace(go.Bar(
            x=list(metrics.values()), y=[row[k] for k in metrics], name=f"{row['group']} ({int(row['count'])})",
            customdata=[[int(row["count"]), str(row["group"])]] * len(metrics),
            hovertemplate=("%{customdata[1]}<br>%{x}: %{y:,.4g}" if task == "regression" else
                           "%{customdata[1]}<br>%{x}: %{y:.1%}") + "<br>%{customdata[0]} rows<extra></extra>"))
    gaps = ", ".join(f"{k.replace('_', ' ')} {v:.3g}" for k, v in group.gaps.items()
                     if v is not None and k in ("demographic_parity_difference", "equalized_odds_difference",
                                                "mae_gap"))
    title = f"By {group.column}" + (f" — {gaps}" if gaps else "")
    fig = style(fig, title, "Metric", "Value" if task == "regression" else "Rate", barmode="group",
                legend={"title": {"text": f"{group.column} (rows)"}})
    if task != "regression":
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig


def fairness_figures(report: FairnessReport) -> dict[str, go.Figure]:
    """One figure per sensitive column, keyed by the column name."""
    return {g.column: fairness_figure(g, report.task) for g in report.columns}
