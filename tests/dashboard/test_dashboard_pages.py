"""Every page through Streamlit's AppTest: empty workspace, completed, running, bad link, bad upload."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import ROOT, SAMPLES
from streamlit.testing.v1 import AppTest

from automl.experiment import Experiment, Workspace, model_summary

APP = str(ROOT / "dashboard" / "app.py")
PAGES = ["data", "train", "results", "explain", "predict", "monitor", "experiments"]


def open_page(page: str, experiment: str | None = None, session: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    if experiment:
        at.query_params["experiment"] = experiment
    at.run()
    if page != "data":
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [e.value for e in at.info] + [e.value for e in at.warning]
    parts += [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


@pytest.fixture()
def empty_ws(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    return tmp_path


@pytest.fixture()
def completed_ws(trained_titanic, monkeypatch):
    monkeypatch.setenv("AUTOML_WORKSPACE", str(trained_titanic.path.parent))
    return trained_titanic


@pytest.fixture()
def running_exp(trained_titanic, tmp_path, monkeypatch):
    """A copy of a completed experiment's metadata, marked running by this (alive) process."""
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    exp = Workspace(tmp_path).create(name="running one")
    stored = trained_titanic.record.to_dict()
    problem = {k: stored[k] for k in ("task", "target", "metric", "schema", "classes")}
    exp.update(status="running", pid=os.getpid(), host=os.uname().nodename, **problem)
    exp.write_json("progress.json", {"phase": "searching", "total": 3, "complete": 2, "pruned": 1, "fail": 0,
                                     "elapsed_s": 12.0, "budget_s": 60, "remaining_s": 48, "best_score": 0.81,
                                     "best_algorithm": "lightgbm"})
    return exp


@pytest.mark.parametrize("page", PAGES)
def test_page_with_no_experiment(page, empty_ws):
    at = open_page(page)
    assert not at.exception
    if page == "results":
        assert "No experiment yet" in texts(at)
    if page == "experiments":
        assert "No experiments" in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_page_with_completed_experiment(page, completed_ws):
    at = open_page(page, experiment=completed_ws.id)
    assert not at.exception
    if page == "results":
        assert any(m.label == "ROC AUC" for m in at.metric)
        charts = at.get("plotly_chart")
        titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in charts]
        assert any("ROC" in t for t in titles) and any("Optimization history" in t for t in titles)
        assert at.query_params["experiment"] == [completed_ws.id] or at.query_params["experiment"] == completed_ws.id
        summary = model_summary(completed_ws.record)  # the page says what the model is, and why no ensemble
        said = [e.value for e in [*at.info, *at.caption]]
        assert f"The final model is {summary.text()}." in said, said
        assert ("an ensemble of" if summary.is_ensemble else "no ensemble: ") in summary.text()
    if page == "experiments":
        assert len(at.dataframe) >= 1


@pytest.mark.parametrize("page", PAGES)
def test_page_with_running_experiment(page, running_exp):
    at = open_page(page, experiment=running_exp.id)
    assert not at.exception
    if page == "train":
        assert any(m.label == "Trials done" and m.value == "2" for m in at.metric)
        assert any(b.label == "Cancel" for b in at.button)
    if page == "results":
        assert "still searching" in texts(at)


@pytest.mark.parametrize("page", ["train", "results", "explain", "predict", "monitor"])
def test_page_with_unknown_experiment_id(page, empty_ws):
    at = open_page(page, experiment="doesnotexist123")
    assert not at.exception
    assert "There is no experiment 'doesnotexist123'" in texts(at)


def test_bad_upload_shows_the_engine_message_and_keeps_state(empty_ws):
    at = open_page("data")
    assert at.selectbox[0].label == "Sample"  # the bundled sample is chosen first
    target_before = at.session_state["table"].target
    at.radio(key="data_source").set_value("Upload a file").run()
    at.file_uploader(key="data_upload").upload("broken.csv", b"a,b\n1,2\n3,4,5,6\n", "text/csv").run()
    assert not at.exception
    assert "could not be parsed" in texts(at)
    assert at.session_state["table"].name == "titanic.csv" and at.session_state["table"].target == target_before


def test_upload_then_profile(empty_ws):
    at = open_page("data")
    at.radio(key="data_source").set_value("Upload a file").run()
    data = (SAMPLES / "car-evaluation.csv").read_bytes()
    at.file_uploader(key="data_upload").upload("cars.csv", data, "text/csv").run()
    assert not at.exception
    assert any(m.label == "Task" and m.value == "multiclass" for m in at.metric)


def test_the_data_page_shows_what_the_reader_changed(empty_ws):
    """A numeric column with a few stray words is read as numbers; the page says so, as `automl fit` does."""
    rows = "".join(f"{i * 1.5 if i % 40 else 'unknown'},{'ab'[i % 2]},{i % 2}\n" for i in range(200))
    at = open_page("data")
    at.radio(key="data_source").set_value("Upload a file").run()
    at.file_uploader(key="data_upload").upload("stray.csv", ("x,c,y\n" + rows).encode(), "text/csv").run()
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "'x'" in warning and "became missing" in warning


def test_cancel_button_writes_the_flag(running_exp):
    at = open_page("train", experiment=running_exp.id)
    next(b for b in at.button if b.label == "Cancel").click().run()
    assert running_exp.cancel_requested


def _wait(exp: Experiment, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if exp.status in ("completed", "failed", "cancelled"):
            return exp.status
        time.sleep(0.5)
    return exp.status


@pytest.mark.slow
def test_two_sessions_train_at_once_and_see_only_their_own(empty_ws):
    sessions = []
    for sample in ("titanic.csv", "car-evaluation.csv"):
        at = open_page("data")
        if sample != "titanic.csv":
            at.selectbox(key="data_sample").set_value("Car evaluation").run()
        at.switch_page("app_pages/train.py").run()
        at.number_input[0].set_value(12)  # time budget
        form_submit = next(b for b in at.button if b.label == "Start")
        form_submit.click().run()
        assert not at.exception
        sessions.append(at)
    ids = [at.session_state["current_experiment"] for at in sessions]
    assert len(set(ids)) == 2
    ws = Workspace(empty_ws)
    statuses = [_wait(ws.get(i)) for i in ids]
    assert statuses == ["completed", "completed"]
    targets = [ws.get(i).record.target for i in ids]
    assert targets == ["Survived", "class"]
    for at, exp_id, other in zip(sessions, ids, reversed(ids)):
        at.run()
        links = [t.value for t in at.text_input if t.label.startswith("Share this experiment")]
        assert links and all(exp_id in link and other not in link for link in links)
        assert "Search completed" in texts(at)


def test_results_exports_and_report(completed_ws):
    at = open_page("results", experiment=completed_ws.id)
    next(b for b in at.button if b.label == "Prepare the safe and ONNX files").click().run()
    next(b for b in at.button if b.label == "Build the HTML report").click().run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Model (skops, safe to load)" in labels and "Report (HTML)" in labels
