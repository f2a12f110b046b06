"""Monitoring figures: bins that show a shift past the training range, and titles clear of the axis titles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_schema
from automl.monitor import build_reference, monitor
from automl.plots import monitor as plots

FONT_PX = 14 * 0.6  # an axis title's character, roughly, at plotly's default title size


@pytest.fixture(scope="module")
def shifted_report():
    rng = np.random.default_rng(0)
    n = 6000
    train = pd.DataFrame({"carat": rng.uniform(0.2, 2.0, n), "cut": rng.choice(list("abc"), n),
                          **{f"f{i}": rng.normal(0, 1, n) for i in range(12)}})
    live = train.sample(1500, random_state=1).reset_index(drop=True)
    live["carat"] = rng.uniform(1.0, 4.0, len(live))  # half the live rows past the training maximum
    live["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(live)) % 5, unit="D")
    reference = build_reference(train, infer_schema(train), None, "regression")
    return monitor(reference, live, importances={c: 1.0 for c in train.columns}, timestamp_column="when")


def _figures(report):
    return {"distribution": plots.feature_distribution_figure(report, "carat"),
            "categories": plots.feature_distribution_figure(report, "cut"),
            "summary": plots.drift_summary_figure(report), "over time": plots.drift_over_time_figure(report)}


def test_the_distribution_is_drawn_past_the_training_maximum(shifted_report):
    fig = plots.feature_distribution_figure(shifted_report, "carat")
    live = next(t for t in fig.data if t.name == "Live")
    right = np.asarray(live.x) + np.asarray(live.width) / 2
    assert right.max() == pytest.approx(4.0, abs=0.01)  # the bars reach the live maximum, not the training one
    past = np.asarray(live.x) > 2.0
    assert past.sum() >= 5 and (np.asarray(live.y)[past] > 0).all()  # live mass in several bins past 2.0
    reference = next(t for t in fig.data if t.name.startswith("Reference"))
    assert (np.asarray(reference.y)[past] == 0).all()
    lines = [s.x0 for s in fig.layout.shapes]
    assert min(lines) == pytest.approx(0.2, abs=0.01) and max(lines) == pytest.approx(2.0, abs=0.01)


@pytest.mark.parametrize("name", ["distribution", "categories", "summary", "over time"])
def test_title_and_subtitle_leave_room_for_the_axis_titles(shifted_report, name):
    fig = _figures(shifted_report)[name].to_plotly_json()
    layout = fig["layout"]
    title = layout["title"]
    assert title["text"] and title["subtitle"]["text"]  # the subtitle is plotly's own, not a second line
    # The title may push the margin (automargin against the container keeps it off the plot area, tick labels and
    # axis titles), and the fixed top margin holds title and subtitle even before it does.
    assert title["automargin"] is True and title["yref"] == "container" and title["yanchor"] == "top"
    assert layout["margin"]["t"] >= 90
    # Streamlit's theme puts the title top left: a y-axis title longer than the plot is tall would reach it.
    plot_height = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    for axis in ("yaxis", "yaxis2"):
        text = (layout.get(axis, {}).get("title") or {}).get("text") or ""
        assert len(text) * FONT_PX < plot_height, f"{name}: {axis} title '{text}' is taller than the plot"
    legend = layout.get("legend", {})
    if legend.get("orientation") == "h":
        assert legend["y"] < 0 and legend["yanchor"] == "top"  # below the x-axis title, not over the title


def test_the_subtitle_states_the_test_and_psi(shifted_report):
    subtitle = plots.feature_distribution_figure(shifted_report, "carat").layout.title.subtitle.text
    assert "drifted" in subtitle and "PSI" in subtitle and shifted_report.features[0]["test"] in subtitle
