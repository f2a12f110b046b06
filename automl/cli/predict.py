"""``automl predict EXPERIMENT_OR_MODEL DATA -o OUT.csv``: predictions for a table, rows in input order."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from automl.cli._common import EXPERIMENT_HELP, add_workspace, locate_experiment
from automl.data import read_table
from automl.errors import AutoMLError

MODEL_SUFFIXES = (".skops", ".onnx", ".joblib")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict a table with an experiment's model or a model file")
    p.add_argument("model", metavar="EXPERIMENT_OR_MODEL",
                   help=f"{EXPERIMENT_HELP}, or a .skops / .onnx / .joblib file")
    p.add_argument("data", help="CSV, Parquet or Excel file with the training columns")
    p.add_argument("-o", "--output", required=True, help="where to write the rows with their predictions")
    p.add_argument("--format", choices=["csv", "parquet"], default=None,
                   help="output format (default: from the output file's extension, else csv)")
    p.add_argument("--trust", action="store_true",
                   help="load a .joblib model file: it is a pickle and runs any code it holds, so only for a "
                        "file you wrote yourself")
    p.add_argument("--no-log", action="store_true", help="don't add these rows to the experiment's prediction log")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from automl.deploy import _prediction_log as prediction_log
    from automl.deploy import describe_model, experiment_of_file, load_model, predict_experiment, predict_frame

    frame = read_table(args.data)
    fmt = args.format or ("parquet" if str(args.output).lower().endswith(".parquet") else "csv")
    target = Path(args.model)
    if target.suffix.lower() in MODEL_SUFFIXES:
        model = load_model(target, trust=args.trust)
        schema, task, classes = describe_model(model)
        result = predict_frame(model, frame, schema, task, classes)
        experiment = experiment_of_file(target.resolve())
        if experiment is not None and not args.no_log and len(result.inputs):
            prediction_log.append(experiment, result.inputs, result.outputs, "cli")
    elif target.exists() and target.is_file():
        raise AutoMLError(f"'{target}' is not a model file this tool knows.",
                          f"Give an experiment (id, folder or registered name) or a {', '.join(MODEL_SUFFIXES)} file.")
    else:
        experiment = locate_experiment(args, args.model)
        result = predict_experiment(experiment, frame, log=not args.no_log, source="cli")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        result.frame.to_parquet(out, index=False)
    else:
        from automl.deploy import to_safe_csv

        to_safe_csv(result.frame, out)  # formulas in cells or headers are escaped for spreadsheets
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(f"{len(result.frame)} rows predicted ({result.n_errors} with unreadable values) -> {out}")
    return 0
