"""Small distribution charts for the Data page's column profile."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from automl.data import DATETIME, NUMERIC, to_datetime

HEIGHT = 220
TOP_CATEGORIES = 20


def column_distribution(series: pd.Series, kind: str) -> go.Figure:
    """A histogram for numbers and dates, a bar chart of the most frequent values otherwise."""
    values = series.dropna()
    fig = go.Figure()
    if kind == NUMERIC:
        fig.add_trace(go.Histogram(x=pd.to_numeric(values, errors="coerce"), nbinsx=40, marker_color="#4F46E5",
                                   hovertemplate="%{x}<br>%{y} rows<extra></extra>"))
    elif kind == DATETIME:
        fig.add_trace(go.Histogram(x=to_datetime(values), nbinsx=40, marker_color="#4F46E5",
                                   hovertemplate="%{x}<br>%{y} rows<extra></extra>"))
    else:
        counts = values.astype(str).value_counts()
        top = counts.head(TOP_CATEGORIES)
        fig.add_trace(go.Bar(x=top.index.tolist(), y=top.to_numpy(), marker_color="#4F46E5",
                             hovertemplate="%{x}<br>%{y} rows<extra></extra>"))
        if len(counts) > TOP_CATEGORIES:
            fig.add_annotation(text=f"top {TOP_CATEGORIES} of {len(counts):,} values", xref="paper", yref="paper",
                               x=1, y=1.12, showarrow=False, font={"size": 11})
    fig.update_layout(template="plotly_white", height=HEIGHT, margin={"l": 40, "r": 10, "t": 30, "b": 40},
                      title={"text": str(series.name), "font": {"size": 13}}, showlegend=False,
                      xaxis_title=str(series.name), yaxis_title="rows", bargap=0.05)
    return fig


def target_distribution(y: pd.Series, task: str) -> go.Figure:
    return column_distribution(y, NUMERIC if task == "regression" else "categorical")
