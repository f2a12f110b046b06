"""The experiment folder: atomic writes, statuses of dead workers, listing, rename, delete, background runs."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from conftest import DATA

from automl import runner
from automl.errors import AutoMLError, ExperimentNotFound
from automl.experiment import Experiment, Workspace, atomic_write_bytes, write_json


def test_ids_are_random_and_unguessable(tmp_path):
    ws = Workspace(tmp_path)
    ids = {ws.create().id for _ in range(20)}
    assert len(ids) == 20 and all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "experiment.json"
    write_json(path, {"status": "completed"})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json(path, {"bad": Boom()})  # serialising fails before anything is replaced
    assert json.loads(path.read_text()) == {"status": "completed"}
    assert [p.name for p in tmp_path.iterdir()] == ["experiment.json"]  # no temp file left behind
    atomic_write_bytes(path, b'{"status": "failed"}')
    assert json.loads(path.read_text())["status"] == "failed"


def test_dead_worker_shows_as_failed(tmp_path):
    exp = Workspace(tmp_path).create()
    exp.update(status="running", pid=2**22 + 12345, host=os.uname().nodename)  # no such process
    assert exp.status == "failed"
    exp.update(pid=os.getpid())
    assert exp.status == "running"


def test_unknown_and_malformed_ids(tmp_path):
    ws = Workspace(tmp_path)
    for bad in ("nope", "../etc", "", "a/b"):
        with pytest.raises(ExperimentNotFound):
            ws.get(bad)


def test_rename_and_delete(tmp_path):
    ws = Workspace(tmp_path)
    exp = ws.create(name="first")
    exp.update(status="completed")
    ws.rename(exp.id, "second")
    assert ws.get(exp.id).name == "second"
    with pytest.raises(AutoMLError, match="can't be empty"):
        ws.rename(exp.id, "  ")
    running = ws.create()
    running.update(status="running", pid=os.getpid())
    with pytest.raises(AutoMLError, match="Cancel it first"):
        ws.delete(running.id)
    ws.delete(exp.id)
    assert [e.id for e in ws.list()] == [running.id]
    assert not any(p.name.startswith(".deleted") for p in tmp_path.iterdir())


def _wait(exp: Experiment, states, seconds=90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and exp.meta.get("status") not in states:
        time.sleep(0.3)
    return exp.meta.get("status")


def test_background_run_completes(tmp_path):
    exp = runner.start(tmp_path, "class", data_path=DATA / "credit-g.csv", trials=4, name="bg")
    assert _wait(exp, ("completed", "failed")) == "completed"
    assert exp.meta["timing"]["trials"] == 4
    assert exp.has_model


def test_background_run_from_upload_bytes_and_sigterm_cancels(tmp_path):
    data = (DATA / "credit-g.csv").read_bytes()
    exp = runner.start(tmp_path, "class", data_bytes=data, filename="credit.csv", time_budget=60)
    assert (exp.path / "input.csv").read_bytes() == data
    assert _wait(exp, ("running",)) == "running"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and exp.progress.get("complete", 0) < 2:
        time.sleep(0.3)
    os.kill(exp.meta["pid"], signal.SIGTERM)
    assert _wait(exp, ("cancelled", "completed", "failed")) == "cancelled"
    assert exp.load_model() is not None  # the best model so far is kept


def test_killed_worker_leaves_a_readable_failed_experiment(tmp_path):
    exp = runner.start(tmp_path, "class", data_path=DATA / "credit-g.csv", time_budget=60)
    assert _wait(exp, ("running",)) == "running"
    time.sleep(2)
    os.kill(exp.meta["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and exp.status != "failed":
        time.sleep(0.2)
    assert exp.status == "failed"
    assert json.loads((exp.path / "experiment.json").read_text())["id"] == exp.id  # whole, readable JSON
    assert Workspace(tmp_path).summaries().loc[0, "status"] == "failed"
