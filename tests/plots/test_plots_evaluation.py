"""Every evaluation figure builds, with traces and axis titles, per task; search figures survive any study."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from conftest import DATA, SAMPLES
from heldout_helpers import make_experiment, predictions
from sklearn.linear_model import LogisticRegression, Ridge

from automl.evaluation import evaluation_data, holdout_inputs
from automl.plots.evaluation import MAX_POINTS, evaluation_figures, threshold_figure
from automl.plots.search import (
    history_figure,
    importance_figure,
    param_importances,
    search_figures,
    slice_figures,
    trials_frame,
)
from automl.search import trial_rows

EXPECTED = {
    "binary": {"confusion", "roc", "pr", "calibration", "threshold", "gain", "lift"},
    "multiclass": {"confusion", "roc", "pr", "calibration"},
    "regression": {"predicted_vs_actual", "residuals", "residual_histogram"},
}


def check(fig) -> None:
    assert fig.layout.title.text and fig.layout.template.layout.paper_bgcolor == "white"  # plotly_white
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert 300 <= fig.layout.height <= 700
    assert len(fig.data) >= 1 and any(t.hovertemplate or t.hoverinfo for t in fig.data)
    fig.to_json()  # serialisable: what st.plotly_chart and the HTML report need


@pytest.mark.parametrize("path, target, estimator", [
    (DATA / "credit-g.csv", "class", LogisticRegression(max_iter=2000)),
    (SAMPLES / "car-evaluation.csv", "class", LogisticRegression(max_iter=1000)),
    (SAMPLES / "ames-house-prices.csv", "SalePrice", Ridge()),
])
def test_every_figure_builds_for_each_task(path, target, estimator):
    task, y, pred, proba, classes = predictions(path, target, estimator)
    data = evaluation_data(y, pred, proba, classes, task)
    figures = evaluation_figures(data, task)
    assert set(figures) == EXPECTED[task]
    for fig in figures.values():
        check(fig)
    if task == "multiclass":  # one curve per class (one-vs-rest) plus the chance line
        assert len(figures["roc"].data) == len(classes) + 1
        assert all("AUC" in t.name for t in figures["roc"].data[:-1])
        assert figures["confusion"].data[0].z.shape == (4, 4)
    if task == "binary":
        assert figures["roc"].data[0].name.startswith(f"{data.positive} (AUC 0.")
        assert figures["calibration"].layout.yaxis2.title.text == "Rows per bin"


def test_threshold_chart_marks_the_chosen_threshold(tmp_path):
    exp, _, _ = make_experiment(tmp_path, DATA / "credit-g.csv", "class", LogisticRegression(max_iter=2000))
    exp.update(threshold=0.35)
    figures = evaluation_figures(exp)  # straight from an experiment folder
    marker = figures["threshold"].data[-1]
    assert marker.name == "At 0.35" and set(marker.x) == {0.35}
    table = evaluation_data(**holdout_inputs(exp)).thresholds
    row = table.loc[np.isclose(table["threshold"], 0.35)].iloc[0]
    assert list(marker.y) == pytest.approx([row["precision"], row["recall"], row["f1"], row["share_positive"]])
    assert threshold_figure(table, None).data[-1].name == "Share predicted positive"


def test_scatter_plots_are_downsampled_above_the_limit():
    # 6,497 wines: predict the alcohol content (a real regression), holding out more rows than the limit
    task, y, pred, _, _ = predictions(DATA / "wine-quality.csv", "alcohol", Ridge(), task="regression",
                                      test_size=0.85)
    assert len(y) > MAX_POINTS
    data = evaluation_data(y, pred, None, [], task)
    figures = evaluation_figures(data)
    for name in ("predicted_vs_actual", "residuals"):
        assert len(figures[name].data[0].x) == MAX_POINTS
        assert f"(5,000 of {len(y):,} rows shown)" in figures[name].layout.title.text
    assert len(figures["residual_histogram"].data[0].x) == len(y)  # the histogram counts every row
    again = evaluation_figures(data)["residuals"].data[0].x
    assert np.array_equal(again, figures["residuals"].data[0].x)  # seeded


def study_with(n_trials: int) -> optuna.Study:
    """A real in-memory study over a conditional space, with a pruned (#3) and a failed (#4) trial."""
    def objective(trial: optuna.Trial) -> float:
        algorithm = trial.suggest_categorical("algorithm", ["lightgbm", "ridge"])
        if algorithm == "lightgbm":
            value = trial.suggest_float("lightgbm:learning_rate", 0.01, 0.3, log=True) * 2 + \
                trial.suggest_int("lightgbm:num_leaves", 4, 64, log=True) / 200
            trial.suggest_categorical("lightgbm:class_weight", [None, "balanced"])
        else:
            value = 0.3 + abs(np.log10(trial.suggest_float("ridge:alpha", 1e-3, 1e3, log=True))) / 10
        trial.report(value, 0)
        if trial.number == 3:
            raise optuna.TrialPruned()
        if trial.number == 4:
            raise ValueError("this configuration failed")
        return value

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study.optimize(objective, n_trials=n_trials, catch=(ValueError,))
    return study


def test_search_figures_on_a_real_study_with_pruned_and_failed_trials():
    study = study_with(30)
    states = trials_frame(study)["state"].value_counts()
    assert states["complete"] == 28 and states["pruned"] == 1 and states["fail"] == 1
    history = history_figure(study, metric_label="ROC AUC")
    check(history)
    assert "28 complete, 1 pruned, 1 fail" in history.layout.title.text
    best = history.data[-1]
    values = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert best.name == "Best so far" and list(best.y) == pytest.approx(np.maximum.accumulate(values))
    assert best.y[-1] == pytest.approx(study.best_value)
    table, _ = param_importances(study)
    assert set(table["scope"]) == {"all trials", "lightgbm", "ridge"}
    assert set(table.loc[table["scope"] == "ridge", "param"]) == {"ridge:alpha"}
    assert table.groupby("scope")["importance"].sum().to_numpy() == pytest.approx(1.0)  # normalised per scope
    fig, _ = importance_figure(study, scope="lightgbm")
    check(fig)
    assert set(fig.data[0].y) <= {"lightgbm:learning_rate", "lightgbm:num_leaves", "lightgbm:class_weight"}
    slices = slice_figures(study)
    lgbm = pd.DataFrame([t.params for t in study.trials if t.state.name == "COMPLETE"
                         and t.params["algorithm"] == "lightgbm"])
    varying = {c.split(":")[1] for c in lgbm.columns if c != "algorithm" and lgbm[c].astype(str).nunique() > 1}
    assert set(slices) == {"lightgbm", "ridge"} and len(slices["lightgbm"].data) == len(varying) >= 2
    assert {t.name for t in slices["lightgbm"].data} == varying  # a parameter that never varied has no panel
    assert slices["ridge"].layout.xaxis.type == "log"  # alpha spans 1e-3..1e3
    figures, notes = search_figures(study)
    assert {"history", "importance", "slice:lightgbm", "slice:ridge"} <= set(figures)


@pytest.mark.parametrize("n_trials", [0, 1, 2, 7])
def test_search_figures_never_raise_on_tiny_studies(n_trials):
    study = study_with(n_trials)
    figures, notes = search_figures(study)
    assert "history" in figures and figures["history"].layout.xaxis.title.text == "Trial"
    fig, reason = importance_figure(study)
    assert fig is None and "at least 8 completed trials" in reason and "importance" in notes
    assert not [k for k in figures if k.startswith("slice:")] and (n_trials == 0 or "slices" in notes)
    rows = trial_rows(study.get_trials())  # the dashboard's table of trials works as a source too
    dict_figures, dict_notes = search_figures(rows.to_dict("records"), greater_is_better=True)
    assert "history" in dict_figures and "Optuna study" in dict_notes["importance"]


def test_importance_with_one_varying_parameter_is_a_sentence_not_one_bar():
    """Ten trials that differ only in the algorithm: one bar ('algorithm', 1.0) would say nothing."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: {"a": 0.7, "b": 0.8}[t.suggest_categorical("algorithm", ["a", "b"])], n_trials=10)
    figures, notes = search_figures(study)
    assert "importance" not in figures and "at least two parameters" in notes["importance"]
