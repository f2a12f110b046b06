"""In real headless Chromium: an experiment named with Markdown image syntax shows as those characters on the
Results and Experiments pages; the browser never fetches the image."""

from __future__ import annotations

import os

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, start_streamlit

from automl.experiment import Workspace

pytestmark = [pytest.mark.browser]
IMAGE_NAME = "![p](http://127.0.0.1:9/pixel.png)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    ws = tmp_path_factory.mktemp("ws-names")
    exp = Workspace(ws).create(name=IMAGE_NAME)
    exp.update(status="running", pid=os.getpid(), host=os.uname().nodename, task="binary", target=IMAGE_NAME,
               metric="roc_auc")
    proc, url = start_streamlit(ws)
    yield url, exp.id
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.parametrize("path", ["results", "experiments"])
def test_a_markdown_image_name_is_text_and_fetches_nothing(server, path):
    url, exp_id = server
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        page.goto(f"{url}/{path}?experiment={exp_id}")
        heading = "Results" if path == "results" else "Experiments"
        page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
        if path == "results":
            page.get_by_text("still searching").wait_for(timeout=30_000)
            assert page.get_by_text(IMAGE_NAME, exact=True).first.is_visible()  # the header, as typed
        else:
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.locator('img[src*="127.0.0.1:9"]').count() == 0
        assert not [u for u in fetched if "127.0.0.1:9/" in u], fetched
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()
