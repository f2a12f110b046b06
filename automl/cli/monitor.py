"""``automl monitor EXPERIMENT LIVE_DATA``: drift of new data against the training data.

Exit codes make it usable in a scheduled job: 0 no drift, 1 drift, 2 bad input.
"""

from __future__ import annotations

import argparse
import json

import pandas as pd

from automl.cli._common import EXPERIMENT_HELP, add_workspace, locate_experiment
from automl.errors import AutoMLError

NO_DRIFT, DRIFT = 0, 1
TABLE_COLUMNS = ["column", "kind", "test", "statistic", "threshold", "drifted", "psi", "psi_band", "importance",
                 "missing_ref", "missing_live", "new_categories"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "monitor", help="Compare new data with an experiment's training data (drift, performance).",
        description="Exit code 0: no drift; 1: drift (dataset drift, drift in the features the model relies on, "
                    "or prediction drift); 2: bad input.")
    parser.add_argument("experiment", help=EXPERIMENT_HELP)
    parser.add_argument("live_data", help="CSV, Parquet or Excel file of new rows (with the target column to "
                                          "measure performance)")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    add_workspace(parser)
    parser.add_argument("--threshold", type=float, default=None,
                        help="share of drifted features that counts as dataset drift (default 0.5)")
    parser.add_argument("--p-value", type=float, default=None, help="p-value threshold of KS/chi² (default 0.05)")
    parser.add_argument("--distance", type=float, default=None,
                        help="distance threshold of Wasserstein/Jensen–Shannon (default 0.1)")
    parser.add_argument("--timestamp", default=None, help="column of dates, for drift per day or week")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The handler: print the report; return 0 (no drift) or 1 (drift). Bad input raises AutoMLError."""
    from automl.data import read_table
    from automl.explain import IMPORTANCE
    from automl.monitor import DriftSettings, monitor_experiment

    settings = DriftSettings(p_value=args.p_value, distance=args.distance,
                             **({"dataset_share": args.threshold} if args.threshold is not None else {}))
    experiment = locate_experiment(args)
    live = read_table(args.live_data)
    if args.timestamp and args.timestamp not in live.columns:
        raise AutoMLError(f"The live table has no column '{args.timestamp}'.",
                          f"Use one of: {', '.join(map(str, live.columns[:20]))}.")
    report = monitor_experiment(experiment, live, settings=settings, timestamp_column=args.timestamp,
                                importances=experiment.read_json(IMPORTANCE))  # SHAP shares, if explained
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return DRIFT if report.drift_detected else NO_DRIFT


def format_report(report) -> str:
    """The report as text: headline, notes, prediction drift, performance, then the per-feature table."""
    lines = [report.headline, *report.notes,
             f"Dataset drift: {report.dataset['n_drifted']} of {report.dataset['n_features']} features "
             f"({report.dataset['share']:.0%}; threshold {report.dataset['threshold']:.0%}); "
             f"{report.n_live} live rows vs {report.n_reference} training rows."]
    if report.importance:
        lines.append(f"Drifted features carry {report.importance['drifted_share']:.0%} of the model's importance "
                     f"(matters from {report.importance['threshold']:.0%}).")
    if report.prediction and report.prediction.get("main"):
        main = next(r for r in report.prediction["rows"] if r["column"] == report.prediction["main"])
        lines.append(f"Prediction drift ({main['column']}, {main['test']} = {main['statistic']:.3g}): "
                     f"{'yes' if report.prediction['drifted'] else 'no'}.")
    if report.performance:
        perf = pd.DataFrame(report.performance["rows"]).drop(columns=["label"]).set_index("metric")
        lines += ["", "Performance (held out at training / estimated from confidence / actual on labelled rows):",
                  perf.to_string(float_format=lambda v: f"{v:.4f}", na_rep="-")]
    table = report.table()
    if len(table):
        order = ["drifted", "importance"] if table["importance"].notna().any() else ["drifted", "score"]
        table = table.sort_values(order, ascending=False)[[c for c in TABLE_COLUMNS if c in table.columns]]
        table["new_categories"] = table["new_categories"].map(lambda v: ", ".join(v[:3]) if v else "")
        lines += ["", table.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-")]
    if report.skipped:
        lines.append("Not tested: " + "; ".join(f"{s['column']} ({s['reason']})" for s in report.skipped))
    return "\n".join(lines)
