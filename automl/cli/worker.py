"""``automl worker EXPERIMENT_OR_STUDY --storage URL``: run trials of a search started elsewhere.

Start as many as you like, on any machines that reach the database and can
read the experiment's training rows; each stops when the search's budget ends.
"""

from __future__ import annotations

import argparse
import sys

from automl.cli._common import add_workspace
from automl.errors import ExperimentNotFound
from automl.experiment import StopSignals, Workspace
from automl.search import run_worker


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="join a running search (PostgreSQL storage) and run its trials")
    p.add_argument("experiment", metavar="EXPERIMENT_OR_STUDY",
                   help="experiment id (= its Optuna study name), its folder, or a registered name")
    p.add_argument("--storage", default=None,
                   help="Optuna storage URL of the search, e.g. postgresql://user:pw@host/db "
                        "(default: the one in the experiment folder)")
    p.add_argument("--data", default=None,
                   help="the experiment's train.parquet (a path this machine can read), when the workspace "
                        "is not shared")
    p.add_argument("--n-jobs", type=int, default=1,
                   help="threads per fit (default 1: start one worker per core instead)")
    p.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the leader's search to start")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    # A stop signal ends this worker at once (its running trial is recorded as failed, the others are kept);
    # the search goes on in the leader and the other workers. Exit 128 + signal, from automl.cli._main.
    ref, workspace = args.experiment, args.workspace
    try:
        exp = Workspace(args.workspace).locate(ref)
        ref, workspace = exp.id, exp.path.parent
    except ExperimentNotFound:
        if not args.storage:  # nowhere else to look: say which workspace was searched
            raise
        # a study started on another machine: found by name in the --storage database
    with StopSignals():
        report = run_worker(ref, storage=args.storage, workspace=workspace, data=args.data,
                            n_jobs=args.n_jobs if args.n_jobs > 0 else None, wait_s=args.wait, log=log)
    states = ", ".join(f"{n} {s}" for s, n in sorted(report.states.items())) or "no trials"
    print(f"worker {report.worker}: {report.trials} trials ({states}) in {report.seconds:.0f}s on study "
          f"{report.study_name}; stopped: {report.stopped}")
    return 0
