"""One truth per number: Results, Compare, the report, the model card and Monitor show the same held-out figures.

One real experiment is trained; every view is read the way a user sees it (the Results page through
AppTest, Compare's table, the report's HTML, the card's JSON and Markdown, Monitor's held-out column),
and after a decision threshold is saved, all of them move together.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES
from streamlit.testing.v1 import AppTest

import automl
from automl.deploy import build_report
from automl.deploy._model_card import model_card, model_card_markdown
from automl.evaluation import (
    BEST_MARK,
    EVALUATION,
    compare,
    evaluate_experiment,
    format_interval,
    format_metric,
    save_threshold,
)
from automl.experiment import Experiment, model_fingerprint
from automl.monitor import monitor_experiment

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def exp(tmp_path_factory) -> Experiment:
    ws = tmp_path_factory.mktemp("one-truth-ws")
    return automl.fit(SAMPLES / "titanic.csv", "Survived", trials=3, seed=0, workspace=ws, name="titanic",
                      ensemble=False, algorithms=["lightgbm"])


def results_page(exp: Experiment, monkeypatch) -> tuple[dict[str, str], str]:
    """The Results page's metric widgets (label -> shown value) and its captions."""
    monkeypatch.setenv("AUTOML_WORKSPACE", str(exp.path.parent))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["experiment"] = exp.id
    at.run()
    at.switch_page("app_pages/results.py")
    at.run()
    assert not at.exception
    return {m.label: m.value for m in at.metric}, "\n".join(c.value for c in at.caption)


def report_figures(text: str) -> tuple[dict[str, str], str]:
    """The held-out table of the report (label -> value) and the interval written beside the headline."""
    section = text[text.index("<section id='held-out'>"):]
    section = section[:section.index("</table>")]
    cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", section, flags=re.S)]
    rows = [cells[i:i + 3] for i in range(0, len(cells), 3)]
    return {label: value for label, value, _ in rows}, next(ci for _, _, ci in rows if ci)


def check_every_view(exp: Experiment, other: Experiment, monkeypatch) -> dict[str, float | None]:
    stored = evaluate_experiment(exp)
    shown = {stored.label(k): format_metric(v) for k, v in stored.metrics.items()}
    interval = format_interval(stored.interval)
    assert stored.interval and interval

    # stored once, keyed by the model file and the threshold; the record's copy (what Monitor reads) is the same
    saved = exp.read_json(EVALUATION)
    assert saved["key"]["model"] == model_fingerprint(exp) and saved["key"]["threshold"] == exp.record.threshold
    assert saved["evaluation"]["metrics"] == stored.metrics and dict(exp.record.holdout) == stored.metrics

    widgets, captions = results_page(exp, monkeypatch)
    assert widgets == shown
    assert f"(95% bootstrap interval {interval})" in captions

    result = compare(exp, other)
    column = result.names[0]
    table = result.holdout
    assert {table.loc[m, "metric"]: table.loc[m, column].removesuffix(BEST_MARK) for m in stored.metrics} == shown
    assert table.loc["interval", column] == interval
    assert {m: result.values.loc[m, column] for m in stored.metrics} == stored.metrics

    report = build_report(exp, compute_shap=False)
    values, report_interval = report_figures(report)
    assert values == shown and report_interval == interval
    headline = shown[stored.label(stored.headline)]
    assert f"<span class='kpi'>{headline}</span> <span class='muted'>(95% CI {interval})</span>" in report

    card = model_card(exp)
    performance = card["performance"]
    assert performance["holdout"] == stored.metrics and performance["interval"] == list(stored.interval)
    assert performance["headline"] == stored.headline
    markdown = model_card_markdown(card)
    for name, value in stored.metrics.items():
        ci = f" (95% CI {interval})" if name == stored.headline else ""
        assert f"| {name} | {format_metric(value)}{ci} |" in markdown

    live = exp.holdout().drop(columns=[c for c in exp.holdout().columns if c == "prediction" or
                                       c.startswith("proba_")])
    monitored = monitor_experiment(exp, live, importances={"Sex": 1.0})
    held = {r["metric"]: r["holdout"] for r in monitored.performance["rows"]}
    assert {k: held[k] for k in stored.metrics} == stored.metrics  # MAPE / median AE etc. are never None here
    return stored.metrics


def test_every_view_shows_the_stored_figures_and_a_threshold_moves_them_together(exp, tmp_path, monkeypatch):
    assert exp.file(EVALUATION).exists()  # scored when the fit finished, not first by whichever view opened
    other = Experiment(Path(shutil.copytree(exp.path, tmp_path / "copy" / f"copy{exp.id}")))
    before = check_every_view(exp, other, monkeypatch)

    save_threshold(exp, 0.3)
    after = check_every_view(exp, other, monkeypatch)
    assert after["recall"] > before["recall"] and after["accuracy"] != before["accuracy"]
    assert after["roc_auc"] == before["roc_auc"]  # the ranking does not depend on the threshold
    assert evaluate_experiment(exp).threshold == 0.3


def test_a_stale_or_missing_store_is_computed_once_with_the_same_numbers(exp, tmp_path):
    copy = Experiment(Path(shutil.copytree(exp.path, tmp_path / exp.id)))
    first = evaluate_experiment(copy)
    copy.file(EVALUATION).unlink()
    again = evaluate_experiment(copy)  # a lost file: the one computation again, the same figures
    assert again.metrics == first.metrics and again.interval == first.interval
    stored = copy.read_json(EVALUATION)
    stored["evaluation"]["metrics"]["accuracy"] = 0.0
    stored["key"]["model"] = "an older model"
    copy.write_json(EVALUATION, stored)
    assert evaluate_experiment(copy).metrics == first.metrics  # a stale key is never read
