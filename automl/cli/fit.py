"""``automl fit DATA --target COL``: search, then print the leaderboard and held-out metrics."""

from __future__ import annotations

import argparse
import json
import os
import sys

import pandas as pd

from automl.algorithms import ALGORITHMS
from automl.api import check_fit, fit
from automl.cli._common import add_workspace, print_table, progress_line
from automl.experiment import StopSignals, Workspace, machine_owner, model_summary, shipped_rows_text
from automl.search import process_started


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="search for the best model for a table and save it as an experiment")
    p.add_argument("data", help="CSV, Parquet or Excel file")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--task", choices=["binary", "multiclass", "regression"], help="override the detected task")
    p.add_argument("--time-budget", type=float, default=None, help="seconds for the whole fit (default 60)")
    p.add_argument("--trials", type=int, default=None, help="number of trials (with or without a time budget)")
    p.add_argument("--metric", default=None, help="roc_auc, log_loss, accuracy, balanced_accuracy, f1, rmse, mae, r2")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cv-folds", type=int, default=None, help="default: 5 up to 10,000 training rows, 3 above")
    p.add_argument("--holdout", type=float, default=0.2, help="fraction of rows held out for the final report")
    p.add_argument("--algorithms", default=None, help=f"comma-separated subset of: {','.join(ALGORITHMS)}")
    p.add_argument("--no-ensemble", action="store_true", help="never ensemble the best trials")
    p.add_argument("--onnx-only", action="store_true",
                   help="search only algorithms whose model exports to ONNX (so the model always does)")
    p.add_argument("--no-refit-full", action="store_true",
                   help="ship the model fitted on the training rows (default: refit on all rows after the report)")
    p.add_argument("--exclude", default="", help="comma-separated columns not to use as features")
    p.add_argument("--storage", default=None, help="Optuna storage URL, e.g. postgresql://user@host/db")
    p.add_argument("--name", default=None, help="experiment name")
    p.add_argument("--json", action="store_true", help="print experiment.json instead of tables")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    quiet = args.json or not sys.stderr.isatty() and False
    metric_name = args.metric or "score"

    def show(info: dict) -> None:
        if not quiet:
            print(progress_line(info, metric_name), end="", file=sys.stderr, flush=True)

    options = dict(task=args.task, time_budget=args.time_budget, trials=args.trials, metric=args.metric,
                   seed=args.seed, cv_folds=args.cv_folds, holdout=args.holdout,
                   algorithms=args.algorithms.split(",") if args.algorithms else None,
                   ensemble=not args.no_ensemble, refit_full=not args.no_refit_full, onnx_only=args.onnx_only,
                   exclude=[c for c in args.exclude.split(",") if c], storage=args.storage)
    # Every argument and the table are checked before the experiment exists: a bad one leaves nothing queued.
    dataset = check_fit(args.data, args.target, workspace=args.workspace, name=args.name, **options)[1]
    for note in dataset.warnings:  # the warnings the Data page shows
        print(f"warning: {note}", file=sys.stderr)
    exp = Workspace(args.workspace).create(name=args.name, owner=machine_owner("cli"))
    print(f"Experiment {exp.id} in {exp.path} (workers: automl worker {exp.id} --storage …)", file=sys.stderr)
    # SIGTERM (docker stop, systemd) and Ctrl-C end the search like the dashboard's Cancel; exit 128 + signal.
    with StopSignals(exp, quiet=args.json) as stop:
        fit(dataset, args.target, workspace=args.workspace, name=args.name, progress=show, experiment=exp,
            source=os.path.abspath(args.data), clock_start=process_started(), **options)
    print(file=sys.stderr)
    code = stop.exit_code or 0
    if args.json:
        print(json.dumps(exp.record.to_dict(), indent=2, default=str))
        return code
    record = exp.record
    for note in record.notes:
        print(f"note: {note}")
    if not exp.has_model:
        print(f"Experiment {exp.id} ({record.status}) has no model: {exp.no_model_reason()}.")
        return code
    if record.leaderboard:
        print(f"\nLeaderboard (CV {record.metric}, {record.config.cv_folds} folds):")
        board = pd.DataFrame(record.leaderboard_records())[["rank", "trial", "label", "score", "cv_std",
                                                            "fit_time_s", "params"]]
        print_table(board.round(4), max_rows=10)
    print(f"\nFinal model: {model_summary(record).text()}")
    print(f"\nHeld-out metrics ({record.rows.holdout} rows never seen by the search):")
    for name, value in record.holdout.items():
        print(f"  {name:<18} {'n/a' if value is None else f'{value:.4f}'}")
    if shipped_rows_text(record):
        print(shipped_rows_text(record))
    timing = record.timing
    print(f"\n{timing.trials} trials ({timing.trials_pruned or 0} pruned) in {timing.elapsed_s:.1f}s"
          + (f" of a {timing.budget_s:.0f}s budget" if timing.budget_s else ""))
    for name, why in record.left_out.items():
        print(f"  left out {name}: {why}")
    print(f"Experiment {exp.id} ({record.status}) in {exp.path}")
    return code
