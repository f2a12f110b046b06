"""``automl resume EXPERIMENT [--time-budget S] [--trials N]``: continue a stopped search.

A search cancelled (Ctrl-C, the dashboard's Cancel) or killed keeps its completed trials in its study;
this goes on from them for another budget, then refits and evaluates like ``automl fit``.
"""

from __future__ import annotations

import argparse
import sys

from automl.cli._common import EXPERIMENT_HELP, add_workspace, locate_experiment, progress_line
from automl.errors import AutoMLError
from automl.experiment import StopSignals, model_summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resume", help="continue a cancelled or interrupted search for another budget")
    p.add_argument("experiment", help=EXPERIMENT_HELP)
    p.add_argument("--time-budget", type=float, default=None, help="seconds more (default 60 without --trials)")
    p.add_argument("--trials", type=int, default=None, help="trials more (with or without a time budget)")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from automl.api import resume
    from automl.runner import resume_blocker

    exp = locate_experiment(args)
    why = resume_blocker(exp)
    if why is not None:
        done = exp.status == "completed"
        raise AutoMLError(f"Experiment {exp.id} can't be resumed: {why}.",
                          "Its model is ready: use it (automl predict / serve / export), or start a new search "
                          "with automl fit." if done else "Start a new search with automl fit.")
    if args.time_budget is not None and args.time_budget <= 0:
        raise AutoMLError(f"The time budget must be positive. Got {args.time_budget} instead.", "Use e.g. 60.")
    if args.trials is not None and args.trials < 1:
        raise AutoMLError(f"The number of trials must be at least 1. Got {args.trials} instead.", "Use e.g. 20.")
    before = int(exp.progress.get("complete") or 0)
    metric = exp.record.metric or "score"
    print(f"Resuming experiment {exp.id} ({exp.name}) after {before} completed trials", file=sys.stderr)

    def show(info: dict) -> None:
        print(progress_line(info, metric), end="", file=sys.stderr, flush=True)

    budget = args.time_budget if args.time_budget is not None or args.trials is not None else 60.0
    # SIGTERM and Ctrl-C stop it like the dashboard's Cancel, as in `automl fit`: resumable again.
    with StopSignals(exp) as stop:
        resume(exp, time_budget=budget, trials=args.trials, progress=show)
    print(file=sys.stderr)
    record = exp.record
    if not exp.has_model:
        print(f"Experiment {exp.id} ({record.status}) has no model: {exp.no_model_reason()}.")
        return stop.exit_code or 0
    print(f"Final model: {model_summary(record).text()}")
    if record.headline_score is not None:
        print(f"Held-out {record.metric}: {record.headline_score:.4f} ({record.rows.holdout} rows never seen by "
              "the search)")
    print(f"{record.timing.trials} trials in all; experiment {exp.id} ({record.status}) in {exp.path}")
    return stop.exit_code or 0
