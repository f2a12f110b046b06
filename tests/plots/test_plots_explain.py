"""Every explanation figure builds, with traces, a title, axis titles and hover, for each task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import automl
from automl.explain import (
    dependence_data,
    explain_experiment,
    explain_row,
    global_importance,
    permutation_importance,
    row_explanation,
)
from automl.plots.explain import (
    beeswarm_figure,
    dependence_figure,
    importance_figure,
    permutation_figure,
    waterfall_figure,
)

ROOT = Path(__file__).resolve().parents[2]
DATASETS = {
    "binary": (ROOT / "tests" / "fixtures" / "credit-g.csv", "class"),
    "multiclass": (ROOT / "automl" / "data" / "samples" / "car-evaluation.csv", "class"),
}


def dated_frame(n: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    x, cat = rng.normal(size=n), rng.choice(["a", "b", "c"], n)
    y = 2 * x + day.month.to_numpy() / 4 + (cat == "a") + rng.normal(scale=0.1, size=n)
    return pd.DataFrame({"day": day.strftime("%Y-%m-%d"), "x": x, "kind": cat, "y": y})


@pytest.fixture(scope="module", params=["binary", "multiclass", "regression"])
def explained(request, tmp_path_factory):
    data, target = DATASETS.get(request.param, (dated_frame(), "y"))
    exp = automl.fit(data, target, trials=1, seed=0, ensemble=False, algorithms=["lightgbm"],
                     workspace=tmp_path_factory.mktemp(f"ws-{request.param}"))
    assert exp.task == request.param
    return exp, explain_experiment(exp, max_rows=300)


def check(fig: go.Figure, min_traces: int = 1) -> None:
    assert isinstance(fig, go.Figure) and len(fig.data) >= min_traces
    assert fig.layout.title.text and fig.layout.height == 420
    assert fig.layout.template.layout.paper_bgcolor == "white"  # plotly_white
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    for trace in fig.data:
        assert trace.hovertemplate
        assert len(trace.x) > 0


def test_importance_and_beeswarm(explained):
    exp, result = explained
    fig = importance_figure(result, top=5)
    check(fig)
    top5 = global_importance(result)["feature"].head(5).tolist()
    assert list(fig.data[0].y) == top5 and result.output in fig.layout.xaxis.title.text
    swarm = beeswarm_figure(result, top=5, max_points=100)
    check(swarm)
    assert sum(len(t.x) for t in swarm.data) == min(5, len(result.features)) * min(100, result.n_rows_used)
    assert list(swarm.layout.yaxis.ticktext) == top5
    assert swarm.data[0].marker.colorbar.ticktext == ("low", "high")


def test_waterfall_from_the_data_and_from_a_typed_row(explained):
    exp, result = explained
    fig = waterfall_figure(row_explanation(result, 0), top=3)
    check(fig)
    steps = list(fig.data[0].x)
    n_features = len(result.features)
    assert len(steps) == min(3, n_features) + (n_features > 3) + 1  # features, "other", prediction
    assert sum(steps[:-1]) + result.base_value == pytest.approx(result.base_value + result.values[0].sum())
    row = result.data.iloc[[1]]
    local = explain_row(exp, row)
    check(waterfall_figure(local))
    assert any("=" in label for label in waterfall_figure(local).data[0].y)


def test_dependence_numeric_and_categorical(explained):
    exp, result = explained
    kinds = result.kinds
    for feature in result.features[:3]:
        dep = dependence_data(result, feature)
        fig = dependence_figure(dep)
        check(fig)
        assert fig.layout.xaxis.title.text == feature and len(fig.data[0].x) == result.n_rows_used
        if dep.interaction:
            assert fig.data[0].marker.colorbar.title.text == dep.interaction
        if kinds[feature] not in ("numeric", "datetime"):
            assert len(fig.layout.xaxis.ticktext) == result.data[feature].nunique(dropna=False)


def test_permutation_figures(explained):
    exp, result = explained
    perm = permutation_importance(exp, n_repeats=2)
    fig = permutation_figure(perm, top=4)
    check(fig)
    assert len(fig.data[0].y) == min(4, len(result.features)) and fig.data[0].error_x.array is not None
