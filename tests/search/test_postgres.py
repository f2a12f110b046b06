"""One search on a real PostgreSQL: a leader and worker processes; a worker killed mid-trial.

The session fixture starts Debian's PostgreSQL cluster if it is down (and stops
it again at the end), and creates a fresh database for the session. Set
``AUTOML_TEST_POSTGRES_URL`` to use a server of your own instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from conftest import DATA, ROOT

from automl.experiment import Experiment, Workspace
from automl.search import load_trials

pytestmark = pytest.mark.postgres
ROLE = "automl_test"


def _psql(sql: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, capture_output=True, timeout=60)


def _cluster() -> tuple[str, str, str, str] | None:
    """(version, name, port, status) of the first Debian cluster, if any."""
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            return parts[0], parts[1], parts[2], parts[3]
    return None


@pytest.fixture(scope="session")
def postgres_url():
    own = os.environ.get("AUTOML_TEST_POSTGRES_URL")
    if own:
        yield own
        return
    if not shutil.which("pg_lsclusters") or not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
    if os.geteuid() != 0:
        pytest.skip("starting PostgreSQL needs root (or set AUTOML_TEST_POSTGRES_URL to a server you run)")
    cluster = _cluster()
    if cluster is None:
        pytest.skip("PostgreSQL is installed but has no cluster (pg_createcluster <version> main)")
    version, name, port, status = cluster
    started = status != "online"
    if started:
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True, timeout=120)
    password, database = secrets.token_hex(12), f"automl_test_{secrets.token_hex(4)}"
    _psql(f"DO $$ BEGIN CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'; "
          f"EXCEPTION WHEN duplicate_object THEN ALTER ROLE {ROLE} LOGIN PASSWORD '{password}'; END $$;")
    _psql(f"CREATE DATABASE {database} OWNER {ROLE}")
    try:
        yield f"postgresql://{ROLE}:{password}@127.0.0.1:{port}/{database}"
    finally:
        _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if started:
            subprocess.run(["pg_ctlcluster", version, name, "stop"], timeout=120)


ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT),
       "AUTOML_HEARTBEAT_S": "1", "AUTOML_GRACE_S": "6"}  # a dead worker is noticed within seconds
ALGOS = ["lightgbm", "hist_gradient_boosting", "logistic_regression", "random_forest"]


def _leader(exp: Experiment, url: str, budget: float) -> subprocess.Popen:
    code = ("import automl; from automl.experiment import Experiment; "
            f"automl.fit({str(DATA / 'credit-g.csv')!r}, 'class', experiment=Experiment({str(exp.path)!r}), "
            f"time_budget={budget}, storage={url!r}, algorithms={ALGOS!r})")
    return subprocess.Popen([sys.executable, "-c", code], env=ENV, cwd=ROOT)


def _worker(exp: Experiment, url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "automl", "worker", exp.id, "--storage", url,
                             "--workspace", str(exp.path.parent), "--quiet"],
                            env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _defaults(trials: list[optuna.trial.FrozenTrial]) -> list[tuple[str, int]]:
    return sorted((t.params["algorithm"], t.user_attrs["default"]) for t in trials if "default" in t.user_attrs)


EXPECTED_DEFAULTS = sorted([("hist_gradient_boosting", 0), ("lightgbm", 0), ("lightgbm", 1), ("lightgbm", 2),
                            ("lightgbm", 3), ("logistic_regression", 0), ("random_forest", 0)])


def test_leader_and_two_workers_share_one_study(tmp_path, postgres_url):
    exp = Workspace(tmp_path).create(name="pg-three")
    leader = _leader(exp, postgres_url, budget=24)
    workers = [_worker(exp, postgres_url) for _ in range(2)]
    assert leader.wait(timeout=120) == 0, exp.meta.get("error")
    outputs = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-1500:] for _, err in outputs]
    assert all("stopped:" in out for out, _ in outputs)
    meta = exp.meta
    assert meta["status"] == "completed" and meta["storage"] == postgres_url
    study = optuna.load_study(study_name=exp.id, storage=postgres_url)
    trials = study.trials
    assert [t.number for t in trials] == list(range(len(trials)))
    assert {t.state for t in trials} <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert _defaults(trials) == EXPECTED_DEFAULTS  # each default ran once, none enqueued twice
    searched = [json.dumps(t.params, sort_keys=True) for t in trials if "default" not in t.user_attrs]
    assert len(searched) == len(set(searched))  # workers sample with their own seeds
    per_process = {t.user_attrs.get("worker", "leader") for t in trials}
    assert len(per_process) == 3, per_process  # the leader and both workers ran trials
    # the leader's progress and final count read the study, so they include the workers' trials
    leader_own = sum("worker" not in t.user_attrs for t in trials)
    assert meta["timing"]["trials"] > leader_own
    assert len(load_trials(postgres_url, exp.id)) == len(trials)
    assert exp.load_model().predict(exp.holdout().drop(columns=["class"])).shape == (200,)


def test_killed_worker_leaves_a_failed_trial_and_the_search_goes_on(tmp_path, postgres_url):
    exp = Workspace(tmp_path).create(name="pg-kill")
    leader = _leader(exp, postgres_url, budget=26)
    victim, survivor = _worker(exp, postgres_url), _worker(exp, postgres_url)
    victim_id = None
    deadline = time.monotonic() + 60
    killed_trial = None
    while killed_trial is None and time.monotonic() < deadline:
        time.sleep(0.2)
        if not exp.meta.get("study_name"):
            continue
        study = optuna.load_study(study_name=exp.id, storage=postgres_url)
        running = [t for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
                   if t.user_attrs.get("worker", "").endswith(f":{victim.pid}")]
        if running:
            victim.send_signal(signal.SIGKILL)
            killed_trial, victim_id = running[0].number, running[0].user_attrs["worker"]
    assert killed_trial is not None, "the worker never ran a trial"
    killed_at = time.time()
    victim.wait(timeout=30)
    assert leader.wait(timeout=120) == 0, exp.meta.get("error")
    out, err = survivor.communicate(timeout=60)
    assert survivor.returncode == 0, err[-1500:]
    assert exp.meta["status"] == "completed"
    trials = optuna.load_study(study_name=exp.id, storage=postgres_url).trials
    assert trials[killed_trial].state == optuna.trial.TrialState.FAIL  # by heartbeat, not by anyone's hand
    assert trials[killed_trial].user_attrs["worker"] == victim_id
    later = [t for t in trials if t.datetime_start and t.datetime_start.timestamp() > killed_at + 1]
    assert any(t.state == optuna.trial.TrialState.COMPLETE for t in later)  # the search went on
    assert not any(t.state == optuna.trial.TrialState.RUNNING for t in trials)
    assert _defaults(trials) == EXPECTED_DEFAULTS
