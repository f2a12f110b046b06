"""What a demanding user does every day, in real headless Chromium against a real `streamlit run`:
the target guessed on a table whose target isn't last, a batch predicted and logged once however often the
page reruns, Explain for an ensemble in seconds, the copy-link button, no request leaving the machine, and
a phone-width page whose charts have no toolbar over their titles."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
from browser import browser, no_exception, require_chromium, shot, start_streamlit  # noqa: F401 (a fixture)
from conftest import SAMPLES

import automl
from automl.deploy import _prediction_log as prediction_log
from automl.experiment import Workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXPLAIN_BUDGET_S = 15.0


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A workspace with one completed ensemble experiment (titanic), and the dashboard serving it."""
    require_chromium()
    ws = tmp_path_factory.mktemp("ws-everyday")
    exp = automl.fit(SAMPLES / "titanic.csv", "Survived", trials=12, seed=0, workspace=ws, name="titanic")
    assert exp.record.model.is_ensemble, "the fixture must be an ensemble (ensembling is on by default)"
    proc, url = start_streamlit(ws)
    yield url, ws, exp
    proc.terminate()
    proc.wait(timeout=20)


def test_the_target_is_guessed_by_name_when_it_is_not_the_last_column(served, browser, tmp_path):
    url, _, _ = served
    rng = np.random.default_rng(0)
    carat = rng.uniform(0.2, 3, 300)
    table = pd.DataFrame({"carat": carat, "cut": rng.choice(["Fair", "Good", "Ideal"], 300),
                          "price": (carat * 4000).round(), "x": carat * 2, "y": carat * 2.1, "z": carat * 1.3})
    path = tmp_path / "gems.csv"
    table.to_csv(path, index=False)
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(url)
    page.get_by_text("Upload a file").click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("gems.csv · 300 rows × 6 columns").wait_for(timeout=30_000)
    page.get_by_text("Guessed, because its name 'price'").wait_for(timeout=30_000)
    target = page.locator('[data-testid="stSelectbox"]').filter(has_text="Target (the column to predict)").first
    shown = target.evaluate("e => e.textContent + ' ' + [...e.querySelectorAll('input')].map("
                            "i => i.value + ' ' + (i.getAttribute('aria-label') || '')).join(' ')")
    assert "price" in shown, shown
    page.locator('[data-testid="stMetricValue"]', has_text="regression").wait_for()
    no_exception(page)


def test_a_batch_is_logged_once_across_reruns(served, browser, tmp_path):
    url, ws, exp = served
    rows = pd.read_csv(SAMPLES / "titanic.csv").drop(columns=["Survived"]).head(40)
    path = tmp_path / "batch.csv"
    rows.to_csv(path, index=False)
    before = prediction_log.count(exp)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    page.goto(f"{url}/predict?experiment={exp.id}")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("40 rows predicted. 40 rows added to the prediction log.").wait_for(timeout=30_000)
    with page.expect_download():
        page.get_by_role("button", name="Download predictions (CSV)").click()  # a rerun
    page.get_by_role("tab", name="One row (a form)").click()
    page.get_by_role("tab", name="Batch (a file)").click()
    with page.expect_download():
        page.get_by_role("button", name="Download predictions (Parquet)").click()  # another rerun
    page.get_by_text("40 rows predicted").wait_for()
    time.sleep(1.0)  # let any (wrong) second prediction reach the log
    no_exception(page)
    assert prediction_log.count(Workspace(ws).get(exp.id)) - before == 40


def test_explain_draws_an_ensemble_within_seconds(served, browser):
    url, _, exp = served
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    start = time.monotonic()
    page.goto(f"{url}/explain?experiment={exp.id}")
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(
        state="visible", timeout=EXPLAIN_BUDGET_S * 1000)
    took = time.monotonic() - start
    no_exception(page)
    shot(page, "explain-ensemble")
    assert took <= EXPLAIN_BUDGET_S


def test_the_copy_button_puts_the_share_link_on_the_clipboard(served, browser):
    url, _, exp = served
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = ctx.new_page()
    page.goto(f"{url}/results?experiment={exp.id}")
    page.get_by_text("Held-out metrics").wait_for(timeout=30_000)
    box = page.get_by_role("textbox", name="Share this experiment (copy the link)")
    deadline = time.monotonic() + 30
    while exp.id not in box.input_value() and time.monotonic() < deadline:
        time.sleep(0.2)  # the box is drawn again once the page knows its own address
    link = box.input_value()
    page.get_by_role("button", name="Copy link").click()
    page.get_by_role("button", name="Copied").wait_for(timeout=5_000)
    assert page.evaluate("navigator.clipboard.readText()") == link and exp.id in link


def test_pages_load_with_nothing_reachable_but_this_server(served, browser):
    """Font CDNs blocked (as offline): every page renders, and no request even tries another host."""
    url, _, exp = served
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    outside: list[str] = []

    def only_local(route) -> None:
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", "localhost"):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    ctx.route("**/*", only_local)
    page = ctx.new_page()
    for path, text in (("", "Data"), (f"results?experiment={exp.id}", "Held-out metrics"),
                       (f"predict?experiment={exp.id}", "Batch (a file)")):
        page.goto(f"{url}/{path}")
        page.get_by_text(text).first.wait_for(timeout=30_000)
        no_exception(page)
    icon = page.locator('link[rel~="icon"]').first.get_attribute("href") or ""
    assert outside == []
    assert not icon.startswith("http") or urlparse(icon).hostname == "127.0.0.1"  # the favicon is served here


def test_a_phone_width_page_has_no_toolbar_over_a_chart_title(served, browser):
    url, _, exp = served
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              device_scale_factor=2)
    page = ctx.new_page()
    page.goto(f"{url}/results?experiment={exp.id}")
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(state="visible", timeout=60_000)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.scroll_into_view_if_needed()
    chart.tap()  # on a phone a tap is the hover that shows Plotly's toolbar
    time.sleep(0.5)
    shot(page, "results-390px")
    overlaps = page.evaluate("""() => {
        const hit = (a, b) => a.width > 0 && b.width > 0 && a.left < b.right && b.left < a.right
                              && a.top < b.bottom && b.top < a.bottom;
        let n = 0;
        document.querySelectorAll('.js-plotly-plot').forEach((plot) => {
            const bar = plot.querySelector('.modebar-container');
            const title = plot.querySelector('.gtitle');
            if (bar && title && getComputedStyle(bar).display !== 'none'
                && hit(bar.getBoundingClientRect(), title.getBoundingClientRect())) n += 1;
        });
        return n;
    }""")
    wide = page.evaluate("document.documentElement.scrollWidth")
    no_exception(page)
    assert overlaps == 0 and wide <= 390 + 1  # tables scroll inside their box, not the page
