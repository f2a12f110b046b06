"""SIGTERM and Ctrl-C on a real `automl fit` end like the dashboard's Cancel: trials kept, a model, exit 128 + signal.

A second signal exits at once and leaves a resumable experiment (cancelled, its study intact).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLES

import automl
from automl.experiment import Experiment, Workspace


def _start_fit(workspace: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "automl", "fit", str(SAMPLES / "titanic.csv"), "--target",
                             "Survived", "--time-budget", "60", "--workspace", str(workspace)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _experiment_after_trials(proc: subprocess.Popen, workspace: Path, trials: int = 3,
                             timeout: float = 60) -> Experiment:
    """The running experiment, once its progress.json counts ``trials`` completed trials."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for path in workspace.glob("*/progress.json"):
            try:
                if json.loads(path.read_text()).get("complete", 0) >= trials:
                    return Experiment(path.parent)
            except ValueError:
                pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail("no trial completed in time")


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_keeps_a_model_and_exits_128_plus_the_signal(tmp_path, titanic, signum, code):
    proc = _start_fit(tmp_path)
    exp = _experiment_after_trials(proc, tmp_path)
    sent = time.monotonic()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == code, err
    assert took < 12, f"took {took:.1f}s to stop"
    assert "Traceback" not in err
    record = exp.record
    assert record.status == "cancelled" and exp.status == "cancelled"
    assert record.timing.trials >= 3 and record.timing.elapsed_s < 40  # stopped well before the 60 s budget
    assert exp.has_model and "Held-out metrics" in out
    proba = exp.load_model().predict_proba(titanic.drop(columns=["Survived"]).head(20))
    assert proba.shape == (20, 2) and ((proba >= 0) & (proba <= 1)).all()
    assert exp.id in {e.id for e in Workspace(tmp_path).list()}


def test_a_second_signal_exits_at_once_and_leaves_a_resumable_experiment(tmp_path):
    proc = _start_fit(tmp_path)
    exp = _experiment_after_trials(proc, tmp_path)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert time.monotonic() - sent < 5
    assert "Traceback" not in err
    record = exp.record
    assert record.status == "cancelled" and exp.status == "cancelled"  # never "running" forever
    if not exp.has_model:  # the second signal came before the refit: the note says how to go on
        assert any("resumed" in note for note in record.notes)
    done = int(exp.progress["complete"])
    assert done >= 3
    resumed = automl.resume(exp, trials=3)
    assert resumed.status == "completed" and resumed.has_model
    assert resumed.record.timing.trials >= done + 3  # the earlier trials are kept in the study


def test_the_background_runner_ends_like_cancel_on_sigterm(tmp_path):
    from automl import runner

    exp = runner.start(tmp_path, "Survived", data_path=SAMPLES / "titanic.csv", time_budget=60)
    proc_pid = exp.record.pid
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and int(exp.progress.get("complete") or 0) < 3:
        assert exp.status in ("queued", "running"), exp.read_json("worker.log")
        time.sleep(0.1)
    os.kill(proc_pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and exp.record.status == "running":
        time.sleep(0.1)
    assert exp.record.status == "cancelled" and exp.has_model
    assert "Traceback" not in exp.file("worker.log").read_text()


def test_a_killed_worker_is_reported_truthfully(tmp_path):
    """After SIGKILL nothing is recorded; the store knows the worker died and says how many trials it kept."""
    exp = Workspace(tmp_path).create(name="killed")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    exp.update(status="running", pid=child.pid, host=os.uname().nodename)
    exp.write_json("progress.json", {"complete": 7, "phase": "searching"})
    assert "still" not in exp.no_model_reason() and exp.status == "running"
    child.kill()
    child.wait()
    assert exp.status == "failed" and exp.worker_died
    reason = exp.no_model_reason()
    assert "7 completed trials" in reason and "resumed" in reason and "before the first trial" not in reason
    Workspace(tmp_path).delete(exp.id)  # a dead worker's experiment can be deleted
    assert not exp.path.exists()


def test_the_summary_of_a_fit_cancelled_before_any_trial_says_so(tmp_path):
    exp = Workspace(tmp_path).create()
    exp.request_cancel()
    frame = pd.read_csv(SAMPLES / "titanic.csv")
    automl.fit(frame, "Survived", experiment=exp, time_budget=20)
    assert exp.record.status == "cancelled" and exp.record.timing.elapsed_s < 10


def test_a_waiting_worker_exits_143_on_sigterm_without_a_traceback(tmp_path):
    exp = Workspace(tmp_path).create(name="leader not started")
    proc = subprocess.Popen([sys.executable, "-m", "automl", "worker", exp.id, "--workspace", str(tmp_path),
                             "--wait", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _catches(proc.pid, signal.SIGTERM):  # imports done, waiting
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 143 and "Traceback" not in err and "interrupted (SIGTERM)" in err


def _catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler for ``signum`` (Linux: the SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def test_stop_signals_cancel_first_then_raise(tmp_path):
    from automl.experiment import Interrupted, StopSignals

    exp = Workspace(tmp_path).create()
    with StopSignals(exp, quiet=True) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        assert exp.cancel_requested and exp.file("cancel.flag").exists() and stop.exit_code == 143
        with pytest.raises(Interrupted) as raised:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
        assert raised.value.exit_code == 130
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are given back
    exp.clear_cancel()
    assert not exp.cancel_requested
