"""``automl list``: the experiments in the workspace, newest first."""

from __future__ import annotations

import argparse

from automl.cli._common import add_workspace, print_table
from automl.experiment import Registry, Workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the experiments in the workspace")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ws = Workspace(args.workspace)
    table = ws.summaries()
    if table.empty:
        where = ws.root.resolve()
        state = "" if where.is_dir() else " (the folder does not exist)"
        print(f"No experiments in the workspace {where}{state}.\nTo look in another, pass --workspace PATH or set "
              "AUTOML_WORKSPACE=PATH.")
        return 0
    names = Registry(ws).names()
    if names:
        print("Registry: " + ", ".join(f"{name} -> {champion}" for name, champion in names.items()))
    print_table(table.round(4), max_rows=1000)
    return 0
