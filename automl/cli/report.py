"""``automl report EXPERIMENT -o report.html``: one self-contained HTML file (opens offline)."""

from __future__ import annotations

import argparse
from pathlib import Path

from automl.cli._common import EXPERIMENT_HELP, add_workspace, locate_experiment
from automl.experiment import atomic_write_bytes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write an experiment's results as one self-contained HTML file")
    p.add_argument("experiment", help=EXPERIMENT_HELP)
    p.add_argument("-o", "--output", default=None, help="HTML file to write (default: report-<id>.html)")
    p.add_argument("--no-shap", action="store_true", help="don't compute SHAP values if none are saved yet")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from automl.deploy import build_report

    experiment = locate_experiment(args)
    out = Path(args.output or f"report-{experiment.id}.html")
    text = build_report(experiment, compute_shap=not args.no_shap)
    atomic_write_bytes(out, text.encode("utf-8"))
    print(f"Report written to {out} ({len(text) / 1e6:.1f} MB)")
    return 0
