"""Arguments and printing shared by several sub-commands."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd


def add_workspace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", default=None,
                        help="folder of experiments (default: $AUTOML_WORKSPACE or ./workspace)")


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


def print_table(frame: pd.DataFrame, file=sys.stdout, max_rows: int = 20) -> None:
    with pd.option_context("display.max_columns", 20, "display.width", 160, "display.max_colwidth", 60):
        print(frame.head(max_rows).to_string(index=False), file=file)
