"""``automl list``: the experiments in the workspace, newest first."""

from __future__ import annotations

import argparse

from automl.cli._common import add_workspace, print_table
from automl.experiment import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the experiments in the workspace")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table = Workspace(args.workspace).summaries()
    if table.empty:
        print(f"No experiments in {Workspace(args.workspace).root}.")
        return 0
    print_table(table.round(4), max_rows=1000)
    return 0
