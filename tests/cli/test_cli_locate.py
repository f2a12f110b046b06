"""Every command takes the folder `automl fit` prints; export writes every format; resume continues a stopped search.

Real subprocesses, as a user runs them; one tiny fit (3 LightGBM trials, no ensemble) shared by the module.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from browser import free_port, serve_health
from conftest import SAMPLES

import automl
from automl.cli import main
from automl.errors import ExperimentNotFound
from automl.experiment import Experiment, Workspace

TINY = ["--trials", "3", "--no-ensemble", "--algorithms", "lightgbm", "--cv-folds", "3"]


@contextlib.contextmanager
def _in(folder: Path, **env: str | None):
    """Run in ``folder`` with ``env`` set (None: unset), as a user's shell would be."""
    old_cwd, old_env = os.getcwd(), {k: os.environ.get(k) for k in env}
    os.chdir(folder)
    for key, value in env.items():
        os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        for key, value in old_env.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    """The real `automl` entry point, in this process (a subprocess costs seconds of imports): code, out, err."""
    out, err = io.StringIO(), io.StringIO()
    with _in(cwd, AUTOML_WORKSPACE=None), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def fitted_folder(tmp_path_factory) -> tuple[Path, str]:
    """(the folder `automl fit` ran in, the experiment folder exactly as it printed it) — default workspace."""
    home = tmp_path_factory.mktemp("home")
    code, out, err = cli("fit", str(SAMPLES / "titanic.csv"), "--target", "Survived", *TINY, cwd=home)
    assert code == 0, err
    printed = out.strip().splitlines()[-1].split(" in ", 1)[1]
    assert printed.startswith("workspace/")  # relative: the default workspace under the folder it ran in
    return home, printed


@pytest.fixture()
def elsewhere(tmp_path) -> Path:
    """Another folder to run commands from: its own ./workspace does not exist."""
    return tmp_path


def test_predict_report_monitor_take_the_printed_folder(fitted_folder, elsewhere):
    home, printed = fitted_folder
    absolute = str((home / printed).resolve())
    rows = SAMPLES / "titanic.csv"
    code, _, err = cli("predict", printed, str(rows), "-o", "pred.csv", "--no-log", cwd=home)  # as printed
    assert code == 0, err
    assert len(pd.read_csv(home / "pred.csv")) == len(pd.read_csv(rows))
    code, _, err = cli("predict", absolute, str(rows), "-o", "pred.csv", "--no-log", cwd=elsewhere)
    assert code == 0, err
    code, _, err = cli("report", absolute, "-o", "r.html", "--no-shap", cwd=elsewhere)
    assert code == 0, err
    assert Path(absolute).name in (elsewhere / "r.html").read_text()
    code, out, err = cli("monitor", absolute, str(rows), "--json", cwd=elsewhere)
    assert code in (0, 1), err  # 2 would be "bad input"
    assert json.loads(out)["n_live"] == len(pd.read_csv(rows))


def test_serve_takes_the_printed_folder(fitted_folder, elsewhere):
    home, printed = fitted_folder
    exp_id = Path(printed).name
    _serve_and_check(str((home / printed).resolve()), exp_id, cwd=elsewhere)


def _serve_and_check(ref: str, expected_id: str, cwd: Path, workspace: Path | None = None) -> str:
    """Start `automl serve ref`, check /health answers for the expected experiment, stop it; return stderr."""
    port = free_port()
    extra = ["--workspace", str(workspace)] if workspace else []
    proc = subprocess.Popen([sys.executable, "-m", "automl", "serve", ref, "--port", str(port), *extra], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        health = serve_health(proc, port)
        assert health is not None, "the server did not answer in time"
        assert health["experiment"] == expected_id
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert f"Serving experiment {expected_id}" in out
    return err


def test_export_writes_all_four_formats_and_the_readme_examples_run(fitted_folder, elsewhere):
    home, printed = fitted_folder
    absolute = str((home / printed).resolve())
    for fmt in ("joblib", "skops", "onnx"):
        code, _, err = cli("export", absolute, "--format", fmt, "-o", f"m.{fmt}", cwd=elsewhere)
        assert code == 0, err
        assert (elsewhere / f"m.{fmt}").stat().st_size > 1000
    code, _, err = cli("export", absolute, "--format", "bundle", "-o", "b.zip", cwd=elsewhere)
    assert code == 0, err
    archive = zipfile.ZipFile(elsewhere / "b.zip")
    assert {"model.skops", "model.joblib", "model.onnx", "model_card.md", "model_card.json", "README.md"} \
        <= set(archive.namelist())
    readme = archive.read("README.md").decode()
    assert "pip install automl-dashboard" in readme and "pip install onnxruntime numpy" in readme
    assert "automl` must be importable" in readme  # the .skops file's custom classes
    # Each README example runs as written, next to the files and a rows.csv of the user's.
    folder = elsewhere / "bundle"
    archive.extractall(folder)
    pd.read_csv(SAMPLES / "titanic.csv").head(5).drop(columns=["Survived"]).to_csv(folder / "rows.csv", index=False)
    blocks = {b.split("\n", 1)[0]: b.split("```python\n")[1].split("```")[0] for b in readme.split("\n## ")[1:]}
    assert set(blocks) >= {"model.skops (safe to load: no code runs on load)", "model.joblib (a pickle: load only "
                           "a file you trust)", "model.onnx (any ONNX runtime, no automl needed)"}
    for title, code in blocks.items():
        if title.startswith("model.onnx"):  # a fresh interpreter that can't import automl: onnxruntime alone
            code = "import sys; sys.modules['automl'] = None\n" + code
            done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, f"{code}\n{done.stderr}"
            assert done.stdout.count("array(") == 2  # labels and probabilities
            continue
        printed_out = io.StringIO()
        with _in(folder), contextlib.redirect_stdout(printed_out):
            exec(compile(code, title, "exec"), {})
        assert "[" in printed_out.getvalue(), title  # predictions printed


def test_not_found_names_the_workspace_and_how_to_point_at_another(fitted_folder, elsewhere):
    home, printed = fitted_folder
    code, _, err = cli("predict", Path(printed).name, str(SAMPLES / "titanic.csv"), "-o", "p.csv", cwd=elsewhere)
    assert code == 2 and "Traceback" not in err
    assert str((elsewhere / "workspace").resolve()) in err  # where it looked, in full
    assert "--workspace" in err and "AUTOML_WORKSPACE" in err
    assert "Experiments page" not in err  # a terminal has no pages
    code, _, err = cli("report", str(elsewhere / "nothing-here"), cwd=elsewhere)
    assert code == 2 and "There is no folder" in err
    (elsewhere / "plain").mkdir()
    code, _, err = cli("export", "./plain", cwd=elsewhere)
    assert code == 2 and "holds no experiment.json" in err
    code, out, _ = cli("list", cwd=elsewhere)
    assert code == 0 and "No experiments" in out
    assert str((elsewhere / "workspace").resolve()) in out and "--workspace" in out
    # The same id works once pointed at the workspace.
    code, out, _ = cli("list", "--workspace", str(home / "workspace"), cwd=elsewhere)
    assert code == 0 and Path(printed).name in out
    # The dashboard's lookup is unchanged: id only, and its message shows no server path.
    with pytest.raises(ExperimentNotFound) as err:
        Workspace(home / "workspace").get("0123456789abcdef")
    assert str(home) not in str(err.value) and "Experiments page" in str(err.value)


def test_resume_a_cancelled_search_ctrl_c_then_to_the_end(tmp_path):
    ws = tmp_path / "ws"

    def cancel_after_first(info: dict) -> None:  # as the dashboard's Cancel, once a trial has completed
        if info.get("complete", 0) >= 1:
            Experiment(next(ws.iterdir())).request_cancel()

    exp = automl.fit(SAMPLES / "titanic.csv", "Survived", time_budget=60, seed=0, workspace=ws, ensemble=False,
                     algorithms=["lightgbm"], cv_folds=3, progress=cancel_after_first)
    assert exp.status == "cancelled", exp.meta.get("error")
    # Ctrl-C on a resume stops it like fit: exit 130, cancelled again, resumable.
    start = exp.progress.get("complete") or 0
    proc = subprocess.Popen([sys.executable, "-m", "automl", "resume", str(exp.path), "--time-budget", "60"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (exp.progress.get("complete") or 0) <= start:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Resuming experiment" in err and "Traceback" not in err
    assert exp.status == "cancelled"
    # Resumed to the end through the same command, given the folder.
    before = exp.record.timing.trials
    code, _, err = cli("resume", str(exp.path), "--trials", "2", cwd=tmp_path)
    assert code == 0, err
    assert "trials" in err and "best roc_auc" in err  # the progress line, as fit prints it
    assert exp.record.status == "completed" and exp.has_model and exp.record.timing.trials >= before + 2
    # A completed experiment, or one without a study, is refused with the reason.
    code, _, err = cli("resume", exp.id, "--workspace", str(ws), cwd=tmp_path)
    assert code == 2 and "can't be resumed" in err and "completed" in err
    blank = Workspace(ws).create(name="never searched")
    blank.update(status="cancelled", pid=None)
    code, _, err = cli("resume", str(blank.path), cwd=tmp_path)
    assert code == 2 and "no search to continue" in err
