"""The pages around a model's life, through AppTest: a stopped search resumed, an export that fails in its
place, a batch predicted once, a typed row warned about, the target guessed, a finished search kept on
screen."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES
from test_dashboard_pages import empty_ws, open_page, texts  # noqa: F401 (a fixture)

import automl
from automl import runner
from automl.deploy import _prediction_log as prediction_log
from automl.deploy._onnx_export import FORMAT as ONNX_FORMAT
from automl.deploy._onnx_export import STATUS_FILE
from automl.experiment import Registry, Workspace, model_fingerprint


@pytest.fixture()
def copied_ws(trained_titanic, tmp_path, monkeypatch):
    """A private copy of the completed titanic experiment: tests here write into it."""
    shutil.copytree(trained_titanic.path, tmp_path / trained_titanic.id)
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    exp = Workspace(tmp_path).get(trained_titanic.id)
    exp.update(name="titanic (copy)")  # a version of its own: the pages' caches are keyed by id and version
    return exp


@pytest.fixture()
def cancelled_exp(tmp_path, monkeypatch):
    """A search really cancelled after its first trials (the cancel flag, as the page's button drops it)."""
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    exp = Workspace(tmp_path).create(name="stopped")

    def stop_early(info) -> None:
        if info.get("complete", 0) >= 2:
            exp.request_cancel()

    automl.fit(SAMPLES / "titanic.csv", "Survived", trials=40, seed=0, experiment=exp, progress=stop_early)
    assert exp.status == "cancelled"
    return exp


def test_a_cancelled_search_resumes_from_the_results_page(cancelled_exp):
    done_before = cancelled_exp.record.timing.trials
    at = open_page("results", experiment=cancelled_exp.id)
    assert not at.exception and "cancelled" in texts(at)
    at.number_input(key=f"resume_budget_results_{cancelled_exp.id}").set_value(8)
    next(b for b in at.button if b.label == "Resume the search").click().run()
    assert not at.exception
    deadline = time.monotonic() + 120
    while cancelled_exp.status not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cancelled_exp.status == "completed", cancelled_exp.record.error
    assert cancelled_exp.record.timing.trials > done_before  # the same study, continued


def test_a_completed_experiment_offers_no_resume(copied_ws):
    assert runner.resume_blocker(copied_ws) is not None
    at = open_page("results", experiment=copied_ws.id)
    assert not at.exception and not [b for b in at.button if b.label == "Resume the search"]


def test_an_onnx_failure_is_one_line_and_the_other_files_stay(copied_ws):
    """A conversion recorded as failed for this very model: the page says why, and still offers skops and zip."""
    copied_ws.write_json(STATUS_FILE, {"fingerprint": model_fingerprint(copied_ws), "format": ONNX_FORMAT,
                                       "error": "ONNX predictions differ on 3% of the held-out rows", "parity": None})
    at = open_page("results", experiment=copied_ws.id)
    next(b for b in at.button if b.label == "Prepare the safe and ONNX files").click().run()
    assert not at.exception and not at.error
    labels = [b.label for b in at.get("download_button")]
    assert "Model (skops, safe to load)" in labels and "Bundle (models + model card, zip)" in labels
    assert "Model (ONNX)" not in labels and "differ on 3% of the held" in texts(at)


def test_a_batch_is_predicted_and_logged_once_per_upload(copied_ws):
    rows = pd.read_csv(SAMPLES / "titanic.csv").drop(columns=["Survived"]).head(30)
    at = open_page("predict", experiment=copied_ws.id)
    before = prediction_log.count(copied_ws)
    at.file_uploader(key=f"pred_upload_{copied_ws.id}").upload("rows.csv", rows.to_csv(index=False).encode(),
                                                              "text/csv").run()
    at.run()
    at.run()  # reruns: a download click, a tab switch
    assert not at.exception and "30 rows added to the prediction log" in texts(at)
    assert prediction_log.count(copied_ws) - before == 30
    at.toggle(key=f"pred_log_{copied_ws.id}").set_value(False).run()
    assert "Not logged" in texts(at) and prediction_log.count(copied_ws) - before == 30


def test_a_typed_row_with_most_fields_empty_is_warned_about(copied_ws):
    at = open_page("predict", experiment=copied_ws.id)
    at.number_input[0].set_value(1000.0)  # far above any training value of the first numeric field
    next(b for b in at.button if b.label == "Predict").click().run()
    assert not at.exception
    warned = " ".join(w.value for w in at.warning)
    assert "fields are empty" in warned and "outside the training range" in warned


def test_the_data_page_guesses_a_target_named_like_one(empty_ws):
    rng = np.random.default_rng(1)
    carat = rng.uniform(0.2, 3, 200)
    table = pd.DataFrame({"carat": carat, "price": (carat * 4000).round(), "x": carat * 2, "y": carat * 2.1,
                          "z": carat})
    at = open_page("data")
    at.radio(key="data_source").set_value("Upload a file").run()
    at.file_uploader(key="data_upload").upload("gems.csv", table.to_csv(index=False).encode(), "text/csv").run()
    assert not at.exception
    target = next(s for s in at.selectbox if s.label.startswith("Target"))
    assert target.value == "price" and "Guessed" in texts(at)
    plotted = next(m for m in at.multiselect if m.label == "Columns to plot")
    assert plotted.value[0] == "price"
    target.set_value("carat").run()  # the plot picker follows the chosen target
    assert next(m for m in at.multiselect if m.label == "Columns to plot").value[0] == "carat"


def test_a_failed_upload_hides_the_previous_table(empty_ws):
    at = open_page("data")
    at.radio(key="data_source").set_value("Upload a file").run()
    at.file_uploader(key="data_upload").upload("broken.csv", b"a,b\n1,2\n3,4,5,6\n", "text/csv").run()
    assert not at.exception and "titanic.csv · 891 rows" not in texts(at)
    assert "Training still uses the table chosen before" in texts(at)


def test_a_finished_search_keeps_its_leaderboard_and_the_form(copied_ws):
    at = open_page("train", session={"current_experiment": copied_ws.id})
    assert not at.exception
    assert [b for b in at.button if b.label == "Start"]  # the form is back
    assert "Search completed" in texts(at) and len(at.dataframe) >= 1 and at.get("plotly_chart")
    next(b for b in at.button if b.label == "Train again").click().run()
    assert not at.exception and "current_experiment" not in at.session_state


@pytest.fixture()
def two_runs(trained_titanic, tmp_path, monkeypatch):
    """Two completed experiments on the same problem in one workspace (the second a copy under a new id)."""
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    first = tmp_path / trained_titanic.id
    shutil.copytree(trained_titanic.path, first)
    second_id = "c0ffee" + trained_titanic.id[6:]
    shutil.copytree(trained_titanic.path, tmp_path / second_id)
    ws = Workspace(tmp_path)
    ws.get(second_id).update(id=second_id, name="titanic again")
    return ws, ws.get(trained_titanic.id), ws.get(second_id)


def test_every_page_says_who_is_champion_and_who_was_superseded(two_runs):
    ws, old, new = two_runs
    Registry(ws).register("survival", old, by="alice@example.com")
    for page in ("results", "predict"):  # every experiment page shares the header that says it
        at = open_page(page, experiment=old.id)
        assert not at.exception
        assert "Champion of **survival**" in " ".join(s.value for s in at.success)
    Registry(ws).promote("survival", new, by="bob@example.com")
    at = open_page("results", experiment=old.id)
    warned = " ".join(w.value for w in at.warning)
    assert f"Superseded by experiment `{new.id}`" in warned and "**survival** is now served by" in warned
    assert "Champion of **survival**" in " ".join(s.value for s in open_page("results", experiment=new.id).success)
    listing = open_page("experiments").dataframe[0].value.set_index("id")
    assert listing.loc[new.id, "registry"] == "champion of survival"
    assert listing.loc[old.id, "registry"].startswith(f"superseded by {new.id}")


def test_a_damaged_registry_is_one_message_and_the_page_still_works(copied_ws):
    (copied_ws.path.parent / "registry.json").write_text("{not json")
    at = open_page("results", experiment=copied_ws.id)
    assert not at.exception and "Held-out metrics" in [s.value for s in at.subheader]
    shown = " ".join(e.value for e in at.error).replace("\\", "")  # the message reaches Markdown escaped
    assert "model registry" in shown and "registry.json" in shown
