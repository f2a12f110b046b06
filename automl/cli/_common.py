"""Arguments and printing shared by several sub-commands."""

from __future__ import annotations

import argparse
import getpass
import platform
import sys
from typing import Any

import pandas as pd

from automl.experiment import Experiment, Registry, Workspace

EXPERIMENT_HELP = "experiment id, its folder (as `automl fit` prints it), or a registered name (its champion)"


def add_workspace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", default=None,
                        help="folder of experiments (default: $AUTOML_WORKSPACE or ./workspace)")


def locate_experiment(args: argparse.Namespace, ref: str | None = None) -> Experiment:
    """The experiment a command was given (id, folder or registry name), saying on stderr when a name was
    followed to its champion or when the experiment has been superseded."""
    ref = args.experiment if ref is None else ref
    exp = Workspace(args.workspace).locate(ref)
    standing = Registry(Workspace(exp.path.parent)).standing(exp.id)
    if standing is None:
        return exp
    if standing.is_champion and ref.strip() == standing.name:
        print(f"'{standing.name}' is experiment {exp.id} (its champion since {standing.at}).", file=sys.stderr)
    elif not standing.is_champion:
        print(f"note: experiment {exp.id} was superseded by {standing.superseded_by} on {standing.at} "
              f"({standing.name}); `{standing.name}` now means experiment {standing.champion}. Using {exp.id} as "
              "asked.", file=sys.stderr)
    return exp


def actor() -> str:
    """Who a change from the command line is by, for the registry: ``cli:<user>@<host>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "unknown"
    return f"cli:{user}@{platform.node()}"


def progress_line(info: dict[str, Any], metric: str = "score", width: int = 24) -> str:
    """One terminal line: a bar over the time (or trial) budget, trials, best so far, time left."""
    if info.get("budget_s"):
        share = min(info["elapsed_s"] / info["budget_s"], 1.0)
    elif info.get("trial_budget"):
        share = min(info["total"] / info["trial_budget"], 1.0)
    else:
        share = 0.0
    filled = int(round(share * width))
    best = "—" if info.get("best_score") is None else f"{info['best_score']:.4f} ({info['best_algorithm']})"
    left = "" if info.get("remaining_s") is None else f" | {info['remaining_s']:.0f}s left"
    return (f"\r[{'#' * filled}{'.' * (width - filled)}] {info['total']} trials "
            f"({info['pruned']} pruned, {info['fail']} failed) | best {metric} {best}{left}   ")


def print_table(frame: pd.DataFrame, file=None, max_rows: int = 20) -> None:
    file = file or sys.stdout  # looked up per call: a redirected stdout (tests, embedding) gets the table
    with pd.option_context("display.max_columns", 20, "display.width", 160, "display.max_colwidth", 60):
        print(frame.head(max_rows).to_string(index=False), file=file)
