"""Disk and permission faults, and a folder removed mid-search: one clear message, nothing half-made.

The full disk is a small tmpfs mounted by the test (root here and in CI), a read-only workspace the same
tmpfs remounted read-only (chmod doesn't stop root). Mounts are always undone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLES

import automl
from automl.deploy import _prediction_log as prediction_log
from automl.errors import AutoMLError
from automl.evaluation import save_threshold
from automl.experiment import Experiment, StorageError, Workspace


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode:
        pytest.skip(f"can't mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(disk: Path) -> None:
    """Use up every free byte of ``disk``."""
    with (disk / "filler").open("ab", buffering=0) as fh:
        for block in (65536, 512):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * block)


def remount_read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file's hash; SQLite's -wal/-shm side files come and go with its connections and are left out."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *args], capture_output=True, text=True, timeout=timeout)


def fit_args(workspace: Path, *extra: str) -> list[str]:
    return ["fit", str(SAMPLES / "titanic.csv"), "--target", "Survived", "--workspace", str(workspace), *extra]


def no_half_made_folders(workspace: Path) -> None:
    for folder in workspace.iterdir():
        if folder.is_dir():
            assert (folder / "experiment.json").exists(), f"half-made folder {folder.name}: {list(folder.iterdir())}"
            assert json.loads((folder / "experiment.json").read_text())["status"] not in ("queued", "running")
    for db in workspace.rglob("predictions.db"):
        assert db.stat().st_size > 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Experiment:
    ws = tmp_path_factory.mktemp("ws-trained")
    return automl.fit(SAMPLES / "titanic.csv", "Survived", trials=3, seed=0, workspace=ws, algorithms=["lightgbm"],
                      ensemble=False)


def copy_into(exp: Experiment, workspace: Path) -> Experiment:
    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copytree(exp.path, workspace / exp.id)
    return Experiment(workspace / exp.id)


@pytest.mark.parametrize("free", ["none", "some"])
def test_fit_on_a_full_disk_gives_one_message_and_leaves_the_existing_experiment_intact(tmp_path, trained, free):
    with tmpfs(tmp_path / "disk", "3m") as disk:
        existing = copy_into(trained, disk / "ws")
        before = snapshot(existing.path)
        if free == "none":
            fill(disk)
        else:  # room for the experiment and its tables, not for the study and the model
            fill(disk)
            (disk / "filler").write_bytes(b"\0" * max((disk / "filler").stat().st_size - 120_000, 0))
        out = cli(*fit_args(disk / "ws", "--time-budget", "10"))
        assert out.returncode == 2, out.stderr
        assert "Traceback" not in out.stderr
        assert "error: There is no space left on the disk" in out.stderr and "fix: Free space" in out.stderr
        assert snapshot(existing.path) == before
        no_half_made_folders(disk / "ws")
        assert [e.id for e in Workspace(disk / "ws").list()][-1] == existing.id


def test_a_read_only_workspace_gives_one_message(tmp_path, trained):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        existing = copy_into(trained, disk / "ws")
        before = snapshot(existing.path)
        remount_read_only(disk)
        out = cli(*fit_args(disk / "ws", "--trials", "2"))
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert "error: The workspace is read-only" in out.stderr
        with pytest.raises(StorageError, match="read-only") as err:
            Workspace(disk / "ws").rename(existing.id, "new name")
        assert str(tmp_path) not in str(err.value)  # no server path in what a page shows
        with pytest.raises(StorageError, match="read-only"):
            prediction_log.append(existing, pd.DataFrame({"a": [1]}), pd.DataFrame({"prediction": [0]}))
        assert snapshot(existing.path) == before


def test_every_write_path_on_a_full_disk_fails_cleanly(tmp_path, trained):
    """Rename, threshold save, prediction logging (new and existing log) and the report: one message each."""
    rows = pd.read_csv(SAMPLES / "titanic.csv").drop(columns=["Survived"]).head(5)
    with tmpfs(tmp_path / "disk", "8m") as disk:
        exp = copy_into(trained, disk / "ws")
        logged = copy_into(trained, disk / "ws2")
        prediction_log.append(logged, rows, pd.DataFrame({"prediction": [0] * 5}))
        before, before_logged = snapshot(exp.path), snapshot(logged.path)
        fill(disk)
        faults = []
        for action in (lambda: Workspace(disk / "ws").rename(exp.id, "renamed"),
                       lambda: save_threshold(exp, 0.3),
                       lambda: prediction_log.append(exp, rows, pd.DataFrame({"prediction": [1] * 5})),
                       lambda: prediction_log.append(logged, rows, pd.DataFrame({"prediction": [1] * 5}))):
            with pytest.raises(AutoMLError) as err:
                action()
            faults.append(str(err.value))
        assert all("no space left" in f and str(disk) not in f for f in faults), faults
        assert not exp.file("predictions.db").exists()  # no 0-byte log left behind
        with pytest.raises(StorageError, match="no space left"):
            prediction_log.count(logged)  # WAL readers write too
        out = cli("report", exp.id, "--workspace", str(disk / "ws"), "--no-shap", "-o", str(disk / "r.html"),
                  timeout=300)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert "no space left" in out.stderr and not (disk / "r.html").exists()
        (disk / "filler").unlink()
        assert snapshot(exp.path) == before and exp.record.name == trained.record.name
        assert snapshot(logged.path) == before_logged and prediction_log.count(logged) == 5


def test_a_folder_removed_mid_search_stops_it_with_a_message_and_no_ghost(tmp_path):
    ws = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-m", "automl", *fit_args(ws, "--time-budget", "60")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(ws.glob("*/progress.json")):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    folder = next(ws.glob("*/progress.json")).parent
    while folder.exists():  # as `rm -rf` does; SQLite's journal may come and go meanwhile
        shutil.rmtree(folder, ignore_errors=True)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    assert "Traceback" not in err and f"The folder of experiment {folder.name} was removed" in err
    time.sleep(0.5)
    assert not folder.exists()  # nothing recreated it
    assert Workspace(ws).list() == [] and Workspace(ws).summaries().empty


@pytest.mark.parametrize("bad", [{"holdout": 0.9}, {"cv_folds": 1}, {"trials": 0}, {"time_budget": -5}])
def test_a_run_that_fails_before_its_search_never_stays_queued(tmp_path, bad):
    ws = Workspace(tmp_path)
    exp = ws.create(name="bad arguments")
    with pytest.raises(AutoMLError):
        automl.fit(SAMPLES / "titanic.csv", "Survived", experiment=exp, **bad)
    assert exp.record.status == "failed" and exp.record.error
    ws.delete(exp.id)
    assert ws.list() == []


def test_an_experiment_whose_creator_died_before_its_run_reads_failed_and_can_be_deleted(tmp_path):
    code = f"from automl.experiment import Workspace; print(Workspace({str(tmp_path)!r}).create().id)"
    exp_id = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    exp = Workspace(tmp_path).get(exp_id)
    assert exp.record.status == "queued" and exp.status == "failed"
    Workspace(tmp_path).delete(exp_id)


def test_listing_skips_folders_being_deleted_and_removed_ones(tmp_path):
    ws = Workspace(tmp_path)
    kept, gone = ws.create(name="kept"), ws.create(name="gone")
    (tmp_path / f".deleted-{kept.id}").mkdir()
    (tmp_path / f".deleted-{kept.id}" / "experiment.json").write_text("{}")
    shutil.rmtree(gone.path)
    with pytest.raises(AutoMLError, match="was removed"):
        gone.update(status="failed")
    with pytest.raises(AutoMLError, match="was removed"):
        gone.write_json("progress.json", {})
    assert not gone.path.exists() and [e.id for e in ws.list()] == [kept.id]


def test_a_long_or_odd_id_is_not_found_without_touching_the_disk_or_naming_a_server_path(tmp_path):
    for ref in ("a" * 300, "../etc", ""):
        with pytest.raises(AutoMLError, match="There is no experiment") as err:
            Workspace(tmp_path / "ws").get(ref)
        assert str(tmp_path) not in str(err.value) and len(str(err.value)) < 200


def test_a_stop_signal_a_library_turned_into_its_own_error_still_reads_cancelled(tmp_path):
    """A second SIGTERM inside Optuna's trial bookkeeping came out as UnboundLocalError (seen once in CI): the run
    is recorded cancelled and the signal, not that error, is what the caller raises (exit 143, no traceback)."""
    import signal

    from automl.experiment import Interrupted
    from automl.experiment._outcome import record_failure

    exp = Workspace(tmp_path).create(name="stopped")
    exp.update(status="running")
    try:
        try:
            raise Interrupted(signal.SIGTERM)
        except Interrupted:
            raise UnboundLocalError("cannot access local variable 'updated_state'")  # noqa: B904 - as Optuna does
    except UnboundLocalError as err:
        raised = record_failure(exp, err)
    assert isinstance(raised, Interrupted) and raised.exit_code == 143
    assert exp.record.status == "cancelled" and "resumed" in exp.record.notes[-1]
    assert not exp.file("errors.log").exists()

    other = Workspace(tmp_path).create(name="broken")
    other.update(status="running")
    try:
        raise UnboundLocalError("a bug of ours, no signal anywhere")
    except UnboundLocalError as err:
        assert record_failure(other, err) is err
    assert other.record.status == "failed"
