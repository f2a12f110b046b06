"""Trials per minute of one search with 1, 2 and 4 processes on one PostgreSQL study.

"N processes" is the leader (``automl.fit … storage=postgresql://…``) plus N-1
``automl worker`` processes on this machine. Every process runs one thread
(``OMP/OPENBLAS/MKL_NUM_THREADS=1``), so the scaling is across processes; on a
2-core machine it should flatten at 2. The table is sized so one trial (5-fold CV
of a logistic regression) takes about a second; the rate counts the trials that
started and finished inside the search window.

    python bench/workers.py --storage postgresql://user:pw@127.0.0.1/db
    python bench/workers.py            # starts Debian's PostgreSQL cluster itself (as root) and stops it after

Timings on a shared machine are noisy; the script prints the load average per run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale import make_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}


def local_postgres() -> tuple[str, callable]:
    """Start the Debian cluster if needed, create a throw-away database; returns (url, cleanup)."""
    line = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.split()
    version, name, port, status = line[:4]
    started = status != "online"
    if started:
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)
    role, password, db = "automl_bench", secrets.token_hex(8), f"automl_bench_{secrets.token_hex(3)}"

    def psql(sql: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-q", "-c", sql], check=True)

    psql(f"DO $$ BEGIN CREATE ROLE {role} LOGIN PASSWORD '{password}'; EXCEPTION WHEN duplicate_object THEN "
         f"ALTER ROLE {role} PASSWORD '{password}'; END $$;")
    psql(f"CREATE DATABASE {db} OWNER {role}")

    def cleanup() -> None:
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        if started:
            subprocess.run(["pg_ctlcluster", version, name, "stop"])
    return f"postgresql://{role}:{password}@127.0.0.1:{port}/{db}", cleanup


def run_search(data: Path, processes: int, budget: float, storage: str, workspace: Path) -> dict:
    from automl.experiment import Workspace

    exp = Workspace(workspace).create(name=f"workers-{processes}")
    code = ("import automl; from automl.experiment import Experiment; "
            f"automl.fit({str(data)!r}, 'target', experiment=Experiment({str(exp.path)!r}), time_budget={budget}, "
            f"storage={storage!r}, algorithms=['logistic_regression'], ensemble=False)")
    load = os.getloadavg()[0]
    leader = subprocess.Popen([sys.executable, "-c", code], env=ENV, cwd=ROOT)
    workers = [subprocess.Popen([sys.executable, "-m", "automl", "worker", exp.id, "--storage", storage,
                                 "--workspace", str(workspace), "--quiet"], env=ENV, cwd=ROOT,
                                stdout=subprocess.DEVNULL) for _ in range(processes - 1)]
    cpu = 0.0
    for proc in [leader, *workers]:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
    if leader.returncode != 0:
        raise SystemExit(f"the leader failed: {exp.meta.get('error')}")
    trials = optuna.load_study(study_name=exp.id, storage=storage).trials
    done = [t for t in trials if t.state.is_finished() and t.datetime_complete]
    start = min(t.datetime_start for t in done)
    end = max(t.datetime_complete for t in done)
    minutes = (end - start).total_seconds() / 60
    seconds = [(t.datetime_complete - t.datetime_start).total_seconds() for t in done]
    return {"processes": processes, "trials": len(done), "window_s": round(minutes * 60, 1),
            "per_min": len(done) / minutes, "trial_s": sorted(seconds)[len(seconds) // 2], "load": load,
            "cpu_per_trial": cpu / max(len(done), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default=None, help="PostgreSQL URL (default: a local throw-away database)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per search")
    parser.add_argument("--rows", type=int, default=80_000)
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="automl-workers-"))
    data = work / "table.csv"
    make_table(args.rows, 20, seed=1).to_csv(data, index=False)
    storage, cleanup = (args.storage, lambda: None) if args.storage else local_postgres()
    try:
        rows = [run_search(data, int(n), args.budget, storage, work / "ws") for n in args.processes.split(",")]
    finally:
        cleanup()
    base = rows[0]["per_min"]
    print(f"\n{'processes':>9} {'trials':>6} {'window s':>8} {'trials/min':>10} {'speed-up':>8} "
          f"{'median trial s':>14} {'CPU s/trial':>11} {'load avg':>8}")
    for r in rows:
        print(f"{r['processes']:>9} {r['trials']:>6} {r['window_s']:>8} {r['per_min']:>10.1f} "
              f"{r['per_min'] / base:>8.2f} {r['trial_s']:>14.2f} {r['cpu_per_trial']:>11.2f} {r['load']:>8.1f}")
    print(f"({os.cpu_count()} cores; every process single-threaded; CPU s/trial: all our processes' CPU "
          "time, start-up and refit included, per finished trial; load avg: the machine's before the run)")


if __name__ == "__main__":
    main()
