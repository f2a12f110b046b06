"""The HTML report: self-contained, with the figures, tolerant of missing pieces."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import automl
from automl.cli._main import main
from automl.deploy import build_report
from automl.experiment import Experiment

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def exp(tmp_path_factory) -> Experiment:
    ws = tmp_path_factory.mktemp("report-ws")
    return automl.fit(ROOT / "tests" / "fixtures" / "credit-g.csv", "class", trials=2, seed=0, workspace=ws,
                      ensemble=False, algorithms=["lightgbm"])


@pytest.fixture(scope="module")
def report(exp) -> str:
    return build_report(exp)


def test_report_is_self_contained_with_its_figures(report, exp):
    from plotly.offline import get_plotlyjs

    assert report.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=", report), "no external script: the file must open offline"
    assert not re.search(r"<link[^>]+href=['\"]https?:", report)
    assert report.count(get_plotlyjs()[:2000]) == 1  # plotly.js embedded exactly once
    plots = re.findall(r"Plotly\.newPlot\(\s*['\"](fig\d+)['\"]", report)
    assert len(plots) == len(set(plots)) >= 10  # target, history, 7 evaluation, 2 SHAP
    for title in ("Summary", "Data profile", "Configuration", "Leaderboard", "Held-out evaluation",
                  "Explanations (SHAP)", "Model card"):
        assert f"<h2>{title}</h2>" in report
    assert "could not be built" not in report
    assert "ROC curve" in report and "SHAP values per row" in report
    metric = exp.meta["metric"]
    assert f"{exp.meta['holdout'][metric]:.4f}" in report
    assert "checking_status" in report and "Intended use" in report


def test_a_section_without_data_says_so(exp, tmp_path):
    copy = Experiment(Path(shutil.copytree(exp.path, tmp_path / exp.id)))
    copy.file("holdout.parquet").unlink()
    shutil.rmtree(copy.file("explain"), ignore_errors=True)
    text = build_report(copy, compute_shap=False)
    assert "Held-out evaluation</h2><table" in text  # the stored metrics still show
    assert "could not be built" in text and "No SHAP values computed yet" in text
    assert "<h2>Model card</h2>" in text


def test_cli_report(exp, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", exp.id, "-o", str(out), "--workspace", str(exp.path.parent), "--no-shap"]) == 0
    assert out.read_text().count("Plotly.newPlot") >= 10
    assert main(["report", "nope", "-o", str(out), "--workspace", str(exp.path.parent)]) == 2


@pytest.mark.browser
def test_report_renders_in_chromium(report, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(report)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(page_file.as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
            rendered = page.locator(".js-plotly-plot").count()
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == [] and rendered >= 10
