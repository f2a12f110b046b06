"""End to end in real headless Chromium against a real `streamlit run`:
upload, train, results, shared link in a fresh browser, model download used for predictions."""

from __future__ import annotations

import re

import joblib
import pandas as pd
import pytest
from browser import browser, no_exception, require_chromium, shot, start_streamlit  # noqa: F401 (a fixture)
from conftest import DATA

from automl.experiment import MODEL

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    ws = tmp_path_factory.mktemp("ws-browser")
    proc, url = start_streamlit(ws)
    yield url, ws
    proc.terminate()
    proc.wait(timeout=20)


def wait_chart(page, text: str, timeout: float = 60_000) -> None:
    page.locator('[data-testid="stPlotlyChart"]', has_text=text).first.locator(".main-svg").first.wait_for(
        state="visible", timeout=timeout)


def test_upload_train_results_share_download(server, browser, tmp_path):
    url, ws = server
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    page.goto(url)
    page.get_by_text("Upload a file").click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(DATA / "credit-g.csv"))
    page.get_by_text("credit-g.csv · 1,000 rows × 21 columns").wait_for(timeout=30_000)
    page.locator('[data-testid="stMetricValue"]', has_text="binary").wait_for()
    no_exception(page)
    shot(page, "data")

    page.get_by_role("link", name="Continue to training").click()
    page.get_by_role("spinbutton", name="Time budget (s)").fill("20")
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Trials done").wait_for(timeout=30_000)
    wait_chart(page, "Optimization history")  # the live history appears once a trial completes
    no_exception(page)
    shot(page, "train-live")
    page.get_by_text("Search completed").wait_for(timeout=90_000)
    shot(page, "train-done")
    page.get_by_role("link", name="See the results").click()

    page.get_by_text("Held-out metrics").wait_for(timeout=30_000)
    wait_chart(page, "ROC")
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1  # the leaderboard
    no_exception(page)
    shot(page, "results")
    link = page.get_by_role("textbox", name="Share this experiment (copy the link)").input_value()
    exp_id = link.split("experiment=")[1]
    assert (ws / exp_id / "experiment.json").exists()

    with page.expect_download() as info:
        page.get_by_role("button", name="Model (joblib, trusted use)").click()
    path = tmp_path / MODEL
    info.value.save_as(path)
    model = joblib.load(path)
    rows = pd.read_csv(DATA / "credit-g.csv").drop(columns=["class"]).head(25)
    assert set(model.predict(rows)) <= {"good", "bad"}
    assert model.predict_proba(rows).shape == (25, 2)

    other = browser.new_context(viewport={"width": 1400, "height": 900})
    fresh = other.new_page()
    fresh.goto(link)
    fresh.get_by_text("Held-out metrics").wait_for(timeout=30_000)
    from playwright.sync_api import expect

    # The page re-renders once it has read the link's query parameter: wait for the value, don't sample it.
    expect(fresh.get_by_role("textbox", name="Share this experiment (copy the link)")).to_have_value(
        re.compile(f"experiment={exp_id}$"), timeout=30_000)
    wait_chart(fresh, "ROC")
    no_exception(fresh)
    other.close()

    # Explain: pick a row, see its waterfall.
    page.get_by_role("link", name="Explain").click()
    wait_chart(page, "Feature importance", timeout=120_000)
    shot(page, "explain")
    page.get_by_role("tab", name="One row").click()
    page.get_by_role("spinbutton", name="Row").fill("3")
    page.keyboard.press("Enter")
    wait_chart(page, "Why this prediction")
    no_exception(page)
    shot(page, "explain-row")

    # Predict: a batch file in, a predictions file out.
    page.get_by_role("link", name="Predict").click()
    page.get_by_text("Rows to predict").wait_for(timeout=30_000)
    batch = tmp_path / "batch.csv"
    pd.read_csv(DATA / "credit-g.csv").drop(columns=["class"]).head(40).to_csv(batch, index=False)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(batch))
    page.get_by_text("40 rows predicted. 40 rows added to the prediction log.").wait_for(timeout=60_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download predictions (CSV)").click()
    info.value.save_as(tmp_path / "pred.csv")
    predicted = pd.read_csv(tmp_path / "pred.csv")
    assert len(predicted) == 40 and set(predicted["prediction"]) <= {"good", "bad"}
    no_exception(page)
    shot(page, "predict")

    # Monitor: a table with one feature shifted is flagged.
    page.get_by_role("link", name="Monitor").click()
    page.get_by_text("Live rows (with the target column too").wait_for(timeout=30_000)
    drifted = pd.read_csv(DATA / "credit-g.csv")
    drifted["duration"] = drifted["duration"] * 3
    live = tmp_path / "live.csv"
    drifted.to_csv(live, index=False)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(live))
    page.get_by_text("Drift in").first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Retrain on training + labelled live rows").wait_for()
    no_exception(page)
    shot(page, "monitor")
    assert drift_flags(ws / exp_id, live) == ["duration"]

    page.get_by_role("link", name="Experiments").click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    no_exception(page)
    shot(page, "experiments")
    ctx.close()


def drift_flags(folder, live) -> list[str]:
    """What the page showed, from the same library call: the drifted features."""
    from automl.experiment import Experiment
    from automl.monitor import monitor_experiment

    table = monitor_experiment(Experiment(folder), pd.read_csv(live)).table()
    return sorted(table.loc[table["drifted"], "column"].tolist())
