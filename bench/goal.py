"""Issue 14's goal, per table: our engine against the best other tool over all seeds.

Per table, the best other tool is the one with the best mean score over the seeds. The difference
(ours - it) is the mean over seeds of the per-seed metric difference; its 95% interval comes from
resampling each seed's test rows (the seeds' splits are independent). A tie: the interval holds 0.
The same against default LightGBM, which the goal says we must never be worse than.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench import common

N_BOOT = 1000
OURS = "ours"
BASELINE = "lgbm_default"


def pooled_diff(task: str, pairs: list[tuple[tuple, tuple]], n_boot: int = N_BOOT) -> tuple[float, float, float]:
    """Mean over seeds of metric(a) - metric(b), with a 95% interval resampling each seed's rows."""
    metric = common.PRIMARY[task]

    def value(y, pred, classes, idx):
        return common.score(task, y[idx], pred[idx], classes or None)[metric]

    full = np.mean([value(a[0], a[1], a[2], np.arange(len(a[0]))) - value(b[0], b[1], b[2], np.arange(len(b[0])))
                    for a, b in pairs])
    rng = np.random.default_rng(0)
    diffs = []
    while len(diffs) < n_boot:
        per_seed = []
        for a, b in pairs:
            idx = rng.integers(0, len(a[0]), len(a[0]))
            if task == "binary" and len(np.unique(a[0][idx])) < 2:
                break
            per_seed.append(value(a[0], a[1], a[2], idx) - value(b[0], b[1], b[2], idx))
        if len(per_seed) == len(pairs):
            diffs.append(np.mean(per_seed))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(full), float(lo), float(hi)


def verdict(task: str, diff: float, lo: float, hi: float) -> str:
    sign = 1 if common.GREATER[common.PRIMARY[task]] else -1
    return "tie" if lo <= 0 <= hi else "win" if sign * diff > 0 else "loss"


def goal_table(runs: pd.DataFrame, results: Path) -> pd.DataFrame:
    """One row per table: the best other tool, our difference to it and to default LightGBM, and the verdicts."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for dataset, group in ok.groupby("dataset", sort=False):
        task, budget = group["task"].iloc[0], group["budget_s"].iloc[0]
        greater = common.GREATER[common.PRIMARY[task]]
        means = group.groupby("contender")["score"].mean()
        if OURS not in means:
            continue
        others = means.drop(OURS)
        best = (others.idxmax() if greater else others.idxmin()) if len(others) else None
        row = {"dataset": dataset, "metric": common.PRIMARY[task], "ours": float(f"{means[OURS]:.5g}"),
               "best other": best, "its score": None if best is None else float(f"{means[best]:.5g}")}
        for name, against in (("vs best", best), ("vs lgbm_default", BASELINE)):
            seeds = sorted(set(group.loc[group.contender == OURS, "seed"]) & set(group.loc[group.contender == against,
                                                                                          "seed"]))
            if against is None or not seeds:
                continue
            pairs = [(common.load_preds(common.preds_path(results, dataset, OURS, s, budget)),
                      common.load_preds(common.preds_path(results, dataset, against, s, budget))) for s in seeds]
            diff, lo, hi = pooled_diff(task, pairs)
            row[f"{name} (diff [95%])"] = f"{diff:+.4g} [{lo:+.4g}, {hi:+.4g}]"
            row[name] = verdict(task, diff, lo, hi)
        rows.append(row)
    return pd.DataFrame(rows)


def goal_summary(table: pd.DataFrame) -> str:
    if table.empty or "vs best" not in table:
        return "- our engine has no rows here."
    held = int(table["vs best"].isin(["win", "tie"]).sum())
    line = f"- win or tie against the best other tool on **{held} of {len(table)}** tables (goal: at least 8)"
    if "vs lgbm_default" not in table:
        return line + "\n- default LightGBM was not run here"
    worse = table.loc[table["vs lgbm_default"] == "loss", "dataset"].tolist()
    return line + f"\n- worse than default LightGBM beyond the interval on: {', '.join(worse) or 'none'}"
