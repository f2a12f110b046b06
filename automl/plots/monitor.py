"""Monitoring figures, drawn from a :class:`~automl.monitor.MonitorReport` alone (no data needed)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from automl.data import proba_class

REFERENCE_COLOUR, LIVE_COLOUR = "#636EFA", "#EF553B"
DRIFT_COLOURS = {True: "#EF553B", False: "#00CC96"}
MAX_BARS = 30
TOP_MARGIN = 100  # px above the plot area: the title (about 25 px), its subtitle (about 20) and air
BOTTOM_MARGIN = 110  # px below: tick labels, the x-axis title and a horizontal legend
HEIGHT = 450


def _frame(fig: go.Figure, title: str, subtitle: str = "", height: int = HEIGHT) -> go.Figure:
    """Title and subtitle in the top margin, kept clear of the plot and of the axis titles.

    Streamlit's theme puts the title at the top left, where a y-axis title
    longer than the plot is tall runs into the subtitle: so the margin is
    fixed, the title may push it further (``automargin`` with ``yref`` the
    container keeps it off the plot area, tick labels and axis titles), and
    the axis titles stay short (see ``tests/plots/test_plots_monitor.py``).
    """
    fig.update_layout(
        title={"text": title, "subtitle": {"text": subtitle}, "x": 0, "xanchor": "left", "xref": "container",
               "y": 0.98, "yanchor": "top", "yref": "container", "automargin": True},
        margin={"t": TOP_MARGIN, "b": BOTTOM_MARGIN}, height=height)
    return fig


def _feature(report, column: str) -> dict[str, Any]:
    for row in report.features:
        if row["column"] == column:
            return row
    raise KeyError(f"No feature {column!r} in the report; features: {[r['column'] for r in report.features]}")


def _overlay(row: dict[str, Any], title: str, x_title: str) -> go.Figure:
    """Reference vs live shares per bucket: a histogram on the reference's bins, or bars per category."""
    dist = row["distribution"]
    ref, live, labels = dist["reference"], dist["live"], dist["labels"]
    fig = go.Figure()
    if dist.get("edges"):
        edges = dist["edges"]
        mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
        widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
        # Equal-frequency bins have unequal widths: plot density so the areas, not heights, are the shares.
        for name, shares, colour in (("Reference (training)", ref, REFERENCE_COLOUR), ("Live", live, LIVE_COLOUR)):
            dens = [s / w if w else 0.0 for s, w in zip(shares, widths)]
            fig.add_bar(x=mids, y=dens, width=widths, name=name, marker_color=colour, opacity=0.55,
                        customdata=[[lab, s] for lab, s in zip(labels, shares)],
                        hovertemplate="%{customdata[0]}<br>share %{customdata[1]:.1%} (density = share / bin width)"
                                      "<extra>" + name + "</extra>")
        fig.update_layout(barmode="overlay", yaxis_title="Density")  # share / bin width, in the hover
        # the bins cover training and live ranges both: mark where the training data ended
        for side, x in zip(("min", "max"), dist.get("training_range") or []):
            fig.add_vline(x=x, line_dash="dot", line_color="#555", annotation_text=f"training {side}",
                          annotation_position="top left" if side == "max" else "top right")
    else:
        order = sorted(range(len(labels)), key=lambda i: -max(ref[i], live[i]))[:MAX_BARS]
        names = [str(labels[i]).replace("__other__", "(other)") for i in order]
        for name, shares, colour in (("Reference (training)", ref, REFERENCE_COLOUR), ("Live", live, LIVE_COLOUR)):
            fig.add_bar(x=names, y=[shares[i] for i in order], name=name, marker_color=colour,
                        hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>")
        fig.update_layout(barmode="group", yaxis_title="Share of rows", yaxis_tickformat=".0%")
    stat = row.get("statistic")
    verdict = "drifted" if row.get("drifted") else "no drift"
    subtitle = f"{row['test']} = {stat:.3g} (threshold {row['threshold']:.3g}): {verdict}" if stat is not None else ""
    if stat is not None and row.get("psi") is not None and row["test"] != "psi":
        subtitle += f" · PSI {row['psi']:.2g} ({row['psi_band']})"
    fig.update_layout(xaxis_title=x_title, legend={"orientation": "h", "y": -0.25, "yanchor": "top"})
    return _frame(fig, title, subtitle)


def feature_distribution_figure(report, column: str) -> go.Figure:
    """Training vs live distribution of one feature, with its test result in the subtitle."""
    row = _feature(report, column)
    return _overlay(row, f"{column}: training vs live", column)


def prediction_distribution_figure(report, column: str | None = None) -> go.Figure:
    """Training vs live distribution of the model's output (the main prediction column by default)."""
    if not report.prediction or not report.prediction.get("rows"):
        raise ValueError("The report has no prediction drift (it was made without a model).")
    column = column or report.prediction["main"]
    row = next(r for r in report.prediction["rows"] if r["column"] == column)
    cls = proba_class(column)
    label = "Predicted class" if column == "predicted_class" else column if cls is None else f"Probability of {cls}"
    return _overlay(row, f"Model output: {label}", label)


def drift_summary_figure(report) -> go.Figure:
    """One bar per feature: drift score (1 = the test's threshold), coloured by drift, ordered by importance."""
    rows = list(report.features)
    has_importance = any(r.get("importance") is not None for r in rows)
    key = (lambda r: r.get("importance") or 0.0) if has_importance else (lambda r: r.get("score") or 0.0)
    rows.sort(key=key)  # horizontal bars draw bottom-up: the most important ends on top
    top = max([r.get("importance") or 0.0 for r in rows] + [1e-12])  # bar thickness: importance relative to the top
    name = {r["column"]: f"{r['column']} ({r['importance']:.0%})" if has_importance else r["column"] for r in rows}
    fig = go.Figure()
    for drifted in (False, True):
        part = [r for r in rows if bool(r["drifted"]) == drifted]
        if not part:
            continue
        fig.add_bar(
            y=[name[r["column"]] for r in part], x=[r.get("score") or 0.0 for r in part], orientation="h",
            name="Drifted" if drifted else "No drift", marker_color=DRIFT_COLOURS[drifted],
            width=[0.25 + 0.65 * (r.get("importance") or 0.0) / top for r in part] if has_importance else None,
            customdata=[[r["test"], r["statistic"], r["threshold"], r.get("importance"), r.get("psi")] for r in part],
            hovertemplate=("%{y}<br>%{customdata[0]} = %{customdata[1]:.3g} (threshold %{customdata[2]:.3g})"
                           "<br>importance %{customdata[3]:.1%}<br>PSI %{customdata[4]:.3f}<extra></extra>"))
    fig.add_vline(x=1.0, line_dash="dash", line_color="#555", annotation_text="threshold")
    fig.update_layout(xaxis_title="Drift score (1 = the test's threshold; above = drift)",
                      yaxis_title="Feature (importance)" if has_importance else "Feature",
                      yaxis={"categoryorder": "array", "categoryarray": [name[r["column"]] for r in rows]},
                      barmode="overlay")
    # the subtitle says the order; the plot is at least as tall as its y-axis title is long
    order = "most important on top" if has_importance else "highest score on top"
    return _frame(fig, "Drift per feature", f"{report.headline} ({order})",
                  height=max(HEIGHT - 50, 22 * len(rows) + TOP_MARGIN + BOTTOM_MARGIN))


def drift_over_time_figure(report) -> go.Figure:
    """Share of drifted features and the worst PSI per day or week of the live rows."""
    if not report.over_time:
        raise ValueError("The report has no drift over time (it was made without a timestamp column).")
    periods = [p for p in report.over_time if p["share_drifted"] is not None]
    x = [p["period"] for p in periods]
    fig = go.Figure()
    fig.add_scatter(x=x, y=[p["share_drifted"] for p in periods], mode="lines+markers",
                    name="Share of drifted features",
                    customdata=[[p["rows"], ", ".join(p["drifted"][:5])] for p in periods],
                    hovertemplate="%{x}: %{y:.0%} drifted (%{customdata[0]} rows)<br>%{customdata[1]}<extra></extra>")
    fig.add_scatter(x=x, y=[p["worst_psi"] for p in periods], mode="lines+markers", name="Worst PSI", yaxis="y2",
                    line={"dash": "dot"}, customdata=[[p["worst_feature"]] for p in periods],
                    hovertemplate="%{x}: PSI %{y:.3f} (%{customdata[0]})<extra></extra>")
    share = report.dataset.get("threshold", 0.5)
    fig.add_hline(y=share, line_dash="dash", line_color="#555", annotation_text="dataset drift")
    unit = "week" if periods and periods[0]["freq"] == "W" else "day"
    fig.update_layout(xaxis_title=unit.capitalize(),
                      yaxis={"title": {"text": "Share of drifted features"}, "tickformat": ".0%", "range": [0, 1]},
                      yaxis2={"title": {"text": "Worst PSI"}, "overlaying": "y", "side": "right",
                              "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.25, "yanchor": "top"})
    return _frame(fig, f"Drift per {unit}", "share of drifted features and the worst PSI of each")
