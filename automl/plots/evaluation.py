"""Evaluation figures (Plotly) drawn from :mod:`automl.evaluate` data, for the Results page and the report.

Each builder takes one table and returns a figure with a title, axis titles,
hover values and the shared look (``plotly_white``, ~380 px). Scatter plots
show at most ``MAX_POINTS`` rows (a seeded sample) so pages and reports stay light.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from automl.evaluation import Confusion, EvaluationData, experiment_evaluation_data

TEMPLATE, HEIGHT, MAX_POINTS = "plotly_white", 380, 5000
DIAGONAL = {"color": "#999999", "dash": "dash", "width": 1}


def style(fig: go.Figure, title: str, x: str, y: str, height: int = HEIGHT, **layout: Any) -> go.Figure:
    """The common look: template, height, margins, title and axis titles."""
    fig.update_layout(template=TEMPLATE, height=height, title={"text": title, "x": 0.02},
                      margin={"l": 60, "r": 20, "t": 55, "b": 50}, hovermode="closest", **layout)
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


def sample_rows(frame: pd.DataFrame, limit: int = MAX_POINTS, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """At most ``limit`` rows (seeded), and a note for the title when some were left out."""
    if len(frame) <= limit:
        return frame, ""
    keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=limit, replace=False))
    return frame.iloc[keep], f" ({limit:,} of {len(frame):,} rows shown)"


def confusion_figure(conf: Confusion) -> go.Figure:
    """Colour: share of each actual class; text: count and share."""
    fig = go.Figure(go.Heatmap(
        z=conf.normalized.to_numpy(), x=conf.labels, y=conf.labels, text=conf.counts.to_numpy(),
        texttemplate="%{text}<br>%{z:.0%}", colorscale="Blues", zmin=0, zmax=1,
        colorbar={"title": {"text": "Share of actual"}, "tickformat": ".0%"},
        hovertemplate="Actual %{y}<br>Predicted %{x}<br>%{text} rows (%{z:.1%} of actual %{y})<extra></extra>"))
    style(fig, "Confusion matrix (held-out rows)", "Predicted class", "Actual class")
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    return fig


def roc_figure(roc: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for name, part in roc.groupby("class", sort=False):
        fig.add_trace(go.Scatter(
            x=part["fpr"], y=part["tpr"], mode="lines", name=f"{name} (AUC {part['auc'].iloc[0]:.3f})",
            customdata=part[["threshold"]], hovertemplate="False positive rate %{x:.3f}<br>True positive rate "
            "%{y:.3f}<br>Threshold %{customdata[0]:.3f}<extra>%{fullData.name}</extra>"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Chance", line=DIAGONAL, hoverinfo="skip"))
    return style(fig, "ROC curve" + (" (one-vs-rest)" if roc["class"].nunique() > 1 else ""),
                 "False positive rate", "True positive rate", xaxis={"range": [0, 1]}, yaxis={"range": [0, 1.02]})


def pr_figure(pr: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    several = pr["class"].nunique() > 1
    for name, part in pr.groupby("class", sort=False):
        fig.add_trace(go.Scatter(
            x=part["recall"], y=part["precision"], mode="lines", name=f"{name} (AP {part['ap'].iloc[0]:.3f})",
            customdata=part[["threshold"]], hovertemplate="Recall %{x:.3f}<br>Precision %{y:.3f}<br>"
            "Threshold %{customdata[0]:.3f}<extra>%{fullData.name}</extra>"))
        if not several:
            base = float(part["prevalence"].iloc[0])
            fig.add_trace(go.Scatter(x=[0, 1], y=[base, base], mode="lines", line=DIAGONAL,
                                     name=f"Chance (prevalence {base:.2f})", hoverinfo="skip"))
    return style(fig, "Precision-recall curve" + (" (one-vs-rest)" if several else ""), "Recall", "Precision",
                 xaxis={"range": [0, 1]}, yaxis={"range": [0, 1.02]})


def calibration_figure(cal: pd.DataFrame) -> go.Figure:
    """Reliability line against the perfect diagonal, with the rows per bin as faint bars."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    name = str(cal["class"].iloc[0]) if len(cal) else ""
    fig.add_trace(go.Bar(x=(cal["low"] + cal["high"]) / 2, y=cal["count"], width=cal["high"] - cal["low"],
                         name="Rows per bin", marker_color="#c7d3e3", opacity=0.35,
                         hovertemplate="Bin %{x:.2f}<br>%{y} rows<extra></extra>"), secondary_y=True)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfectly calibrated", line=DIAGONAL,
                             hoverinfo="skip"), secondary_y=False)
    fig.add_trace(go.Scatter(
        x=cal["mean_predicted"], y=cal["fraction_positive"], mode="lines+markers", name=f"Model ({name})",
        customdata=cal[["count", "low", "high"]],
        hovertemplate="Bin %{customdata[1]:.1f}–%{customdata[2]:.1f}<br>Mean predicted %{x:.3f}<br>"
                      "Observed %{y:.3f}<br>%{customdata[0]} rows<extra></extra>"), secondary_y=False)
    observed = "Observed accuracy" if name == "top label" else f"Observed share of {name}"
    predicted = "Confidence of the predicted class" if name == "top label" else f"Mean predicted P({name})"
    style(fig, "Calibration (reliability)", predicted, observed, barmode="overlay")
    fig.update_yaxes(title_text=observed, range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text="Rows per bin", showgrid=False, rangemode="tozero", tickformat=",d",
                     secondary_y=True)
    fig.update_xaxes(range=[0, 1])
    return fig


def threshold_figure(table: pd.DataFrame, threshold: float | None = 0.5) -> go.Figure:
    """Precision, recall, F1 and share predicted positive against the threshold; a marker at ``threshold``."""
    fig = go.Figure()
    lines = {"precision": "Precision", "recall": "Recall", "f1": "F1", "share_positive": "Share predicted positive"}
    for column, label in lines.items():
        fig.add_trace(go.Scatter(x=table["threshold"], y=table[column], mode="lines", name=label,
                                 hovertemplate=f"Threshold %{{x:.2f}}<br>{label} %{{y:.3f}}<extra></extra>"))
    if threshold is not None:
        row = table.iloc[int(np.argmin(np.abs(table["threshold"].to_numpy() - threshold)))]
        fig.add_vline(x=threshold, line={"color": "#444444", "dash": "dot", "width": 1})
        fig.add_trace(go.Scatter(x=[threshold] * len(lines), y=[row[c] for c in lines], mode="markers",
                                 name=f"At {threshold:.2f}", marker={"size": 9, "color": "#444444"},
                                 text=list(lines.values()),
                                 hovertemplate="%{text} at threshold %{x:.2f}: %{y:.3f}<extra></extra>"))
    return style(fig, "Precision, recall and F1 by decision threshold", "Decision threshold on P(positive)",
                 "Value", yaxis={"range": [0, 1.02]}, xaxis={"range": [0, 1]})


def gain_figure(gain: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for column, label, line in (("gain", "Model", None), ("perfect", "Perfect model", {"dash": "dot"}),
                                ("random", "Random", DIAGONAL)):
        fig.add_trace(go.Scatter(x=gain["share_targeted"], y=gain[column], mode="lines", name=label, line=line,
                                 hovertemplate="Top %{x:.0%} of rows<br>%{y:.1%} of positives<extra>"
                                               f"{label}</extra>"))
    return style(fig, "Cumulative gain", "Share of rows targeted (highest scores first)",
                 "Share of positives found", xaxis={"tickformat": ".0%"}, yaxis={"tickformat": ".0%"})


def lift_figure(gain: pd.DataFrame) -> go.Figure:
    part = gain[gain["share_targeted"] > 0]
    fig = go.Figure(go.Scatter(x=part["share_targeted"], y=part["lift"], mode="lines", name="Model",
                               hovertemplate="Top %{x:.0%} of rows<br>Lift %{y:.2f}×<extra></extra>"))
    fig.add_hline(y=1.0, line=DIAGONAL, annotation_text="Random", annotation_position="bottom right")
    return style(fig, "Lift", "Share of rows targeted (highest scores first)", "Lift over random targeting",
                 xaxis={"tickformat": ".0%"})


def predicted_vs_actual_figure(table: pd.DataFrame, seed: int = 0) -> go.Figure:
    shown, note = sample_rows(table, seed=seed)
    low = float(min(table["actual"].min(), table["predicted"].min()))
    high = float(max(table["actual"].max(), table["predicted"].max()))
    fig = go.Figure(go.Scattergl(x=shown["actual"], y=shown["predicted"], mode="markers", name="Rows",
                                 marker={"size": 5, "opacity": 0.6}, customdata=shown[["residual"]],
                                 hovertemplate="Actual %{x:,.4g}<br>Predicted %{y:,.4g}<br>"
                                               "Residual %{customdata[0]:,.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="Perfect (y = x)", line=DIAGONAL,
                             hoverinfo="skip"))
    return style(fig, "Predicted vs actual" + note, "Actual value", "Predicted value")


def residuals_figure(table: pd.DataFrame, seed: int = 0) -> go.Figure:
    shown, note = sample_rows(table, seed=seed)
    fig = go.Figure(go.Scattergl(x=shown["predicted"], y=shown["residual"], mode="markers", name="Rows",
                                 marker={"size": 5, "opacity": 0.6}, customdata=shown[["actual"]],
                                 hovertemplate="Predicted %{x:,.4g}<br>Residual %{y:,.4g}<br>"
                                               "Actual %{customdata[0]:,.4g}<extra></extra>"))
    fig.add_hline(y=0.0, line=DIAGONAL)
    return style(fig, "Residuals vs predicted" + note, "Predicted value", "Residual (actual − predicted)")


def residual_histogram_figure(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Histogram(x=table["residual"], nbinsx=50, name="Residuals", marker_color="#4c78a8",
                                 hovertemplate="Residual %{x}<br>%{y} rows<extra></extra>"))
    fig.add_vline(x=0.0, line=DIAGONAL)
    return style(fig, "Distribution of residuals", "Residual (actual − predicted)", "Rows", bargap=0.05)


def evaluation_figures(source: Any, task: str | None = None, threshold: float | None = None) -> dict[str, go.Figure]:
    """Every evaluation figure that applies to the task, keyed by name, from an Experiment or EvaluationData.

    Keys: confusion, roc, pr, calibration, threshold, gain, lift (classification; the last three binary only);
    predicted_vs_actual, residuals, residual_histogram (regression).
    """
    data = source if isinstance(source, EvaluationData) else experiment_evaluation_data(source)
    task = task or data.task
    if task == "regression":
        return {"predicted_vs_actual": predicted_vs_actual_figure(data.regression),
                "residuals": residuals_figure(data.regression),
                "residual_histogram": residual_histogram_figure(data.regression)}
    figures = {"confusion": confusion_figure(data.confusion)}
    if data.roc is not None and len(data.roc):
        figures["roc"] = roc_figure(data.roc)
    if data.pr is not None and len(data.pr):
        figures["pr"] = pr_figure(data.pr)
    if data.calibration is not None and len(data.calibration):
        figures["calibration"] = calibration_figure(data.calibration)
    if data.thresholds is not None:
        chosen = threshold if threshold is not None else data.threshold
        figures["threshold"] = threshold_figure(data.thresholds, 0.5 if chosen is None else chosen)
    if data.gain is not None:
        figures["gain"] = gain_figure(data.gain)
        figures["lift"] = lift_figure(data.gain)
    return figures
