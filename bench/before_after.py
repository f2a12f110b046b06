"""Our engine before and after a change, beside the other contenders, from two quality CSVs.

    python -m bench.before_after bench/results/quality_b60_before.csv bench/results/quality_b60.csv

Per dataset: the mean test score over the seeds each run has (failed runs counted, not averaged),
our rank among the contenders of the *after* CSV before and after, and the mean ranks.
Written to ``<after stem>_before_after.md`` next to the after CSV, and printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from bench import common
from bench.quality import mean_rank, to_md, typed

OURS = "ours"


def summary(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset: metric, ours before/after (mean over seeds, with failures), others after."""
    rows = []
    others = sorted(set(after["contender"]) - {OURS})
    for dataset, group in after.groupby("dataset", sort=False):
        metric = group["metric"].dropna().iloc[0]
        row = {"dataset": dataset, "metric": f"{metric} {'↑' if common.GREATER[metric] else '↓'}"}
        row["ours before"] = _cell(before[(before["dataset"] == dataset) & (before["contender"] == OURS)])
        row["ours after"] = _cell(group[group["contender"] == OURS])
        for name in others:
            row[name] = _cell(group[group["contender"] == name])
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(runs: pd.DataFrame) -> str:
    ok = runs[runs["status"] == "ok"]
    if runs.empty:
        return ""
    text = _number(ok["score"].mean()) if len(ok) else "failed"
    failed = len(runs) - len(ok)
    seeds = f" ({len(runs)} seeds" + (f", {failed} failed)" if failed and len(ok) else ")")
    return text + seeds


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}" if abs(v) >= 10 else f"{v:.4f}"


def ranks_with_before(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Mean ranks of the after contenders, and of 'ours before' put in place of ours on the same seeds."""
    swapped = after[after["contender"] != OURS]
    old = before[before["contender"] == OURS]
    keys = set(zip(old["dataset"], old["seed"]))
    same_seeds = swapped[[k in keys for k in zip(swapped["dataset"], swapped["seed"])]]
    after_same = after[[k in keys for k in zip(after["dataset"], after["seed"])]]
    table = pd.concat({"after (all seeds)": mean_rank(after)["mean_rank"],
                       "after (before's seeds)": mean_rank(after_same)["mean_rank"],
                       "before": mean_rank(pd.concat([same_seeds, old]))["mean_rank"]}, axis=1)
    return table.round(2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.before_after", description=__doc__.split("\n")[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    args = p.parse_args(argv)
    before, after = typed(pd.read_csv(args.before)), typed(pd.read_csv(args.after))
    text = "\n\n".join([
        f"# Our engine before and after (`{args.before.name}` → `{args.after.name}`)",
        "Test-split score, mean over the seeds run (failed runs named, not averaged).",
        to_md(summary(before, after), index=False),
        "## Mean rank (1 = best; 'before' swaps our old runs in, on the seeds they had)",
        to_md(ranks_with_before(before, after)),
    ]) + "\n"
    out = args.after.with_name(f"{args.after.stem}_before_after.md")
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
