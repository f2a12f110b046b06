"""Quality at an equal time budget: our engine against FLAML, default LightGBM, default RF and others.

Run: ``python -m bench.quality --budget 60`` (``--quick``: two small datasets, 10 s, one seed).
Every contender runs in its own process on the same split, budget and two cores;
each finished run is appended to the CSV and the Markdown/HTML reports are
rewritten, so a partial run still yields a table. Re-running skips the runs
already in the CSV (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from bench import common
from bench.contenders import CONTENDERS, DEFAULT, python_for
from bench.goal import goal_summary, goal_table

QUICK_DATASETS = ["credit-g", "car-evaluation"]
# Levels a correctly installed contender is known to reach at 60 s on 2 cores (../shared/TESTING.md): a run far
# from them says the install or the call is wrong, not that we are better.
KNOWN_LEVELS: dict[tuple[str, str], tuple[str, float]] = {
    ("autogluon", "adult"): (">=", 0.925), ("autogluon", "car-evaluation"): ("<=", 0.05),
}
# tools that should use their budget
SEARCHERS = {"ours", "ours_cv3", "ours_train_rows", "flaml", "autogluon", "tpot", "pycaret"}
N_BOOT = 400
COLUMNS = ["dataset", "task", "seed", "contender", "status", "metric", "score", "metric2", "score2", "budget_s",
           "fit_s", "overrun_pct", "wall_s", "peak_rss_mb", "trials", "error", "extra"]


# -- running ------------------------------------------------------------------------------------
def run_one(spec: common.Spec, contender: str, seed: int, budget: float, data_dir: Path, results: Path) -> dict:
    """One contender in a child process with a hard timeout; its peak RSS from wait4()."""
    preds = common.preds_path(results, spec.name, contender, seed, budget)
    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        job = {"spec": spec.__dict__, "data_dir": str(data_dir), "seed": seed, "budget": budget,
               "contender": contender, "preds": str(preds), "result": os.path.join(tmp, "result.json")}
        Path(tmp, "job.json").write_text(json.dumps(job))
        env = {**os.environ, "PYTHONPATH": str(common.ROOT), "OMP_NUM_THREADS": "2"}
        start = time.perf_counter()
        proc = subprocess.Popen([python_for(contender), "-m", "bench.contenders", str(Path(tmp, "job.json"))],
                                cwd=common.ROOT, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=open(Path(tmp, "stderr"), "w"))
        timeout, rusage, timed_out = budget * 2 + 60, None, False
        while rusage is None:
            pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                rusage = usage
            elif time.perf_counter() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                timed_out, rusage = True, os.wait4(proc.pid, 0)[2]
            else:
                time.sleep(0.2)
        proc.returncode = 0  # reaped by wait4 above
        wall = time.perf_counter() - start
        result_file = Path(job["result"])
        if result_file.exists():
            result = json.loads(result_file.read_text())
        else:
            tail = Path(tmp, "stderr").read_text()[-300:]
            result = {"status": "timeout" if timed_out else "crashed",
                      "error": f"killed after {timeout:.0f} s" if timed_out else tail}
    primary, secondary = common.PRIMARY[spec.task], common.SECONDARY[spec.task]
    fit_s = result.get("fit_s")
    return {"dataset": spec.name, "task": spec.task, "seed": seed, "contender": contender,
            "status": result["status"], "metric": primary, "score": result.get(primary), "metric2": secondary,
            "score2": result.get(secondary), "budget_s": budget, "fit_s": fit_s,
            "overrun_pct": None if fit_s is None else round(100 * (fit_s / budget - 1), 1),
            "wall_s": round(wall, 2), "peak_rss_mb": round(rusage.ru_maxrss / 1024, 1),
            "trials": result.get("trials"), "error": result.get("error"),
            "extra": json.dumps(result.get("extra") or {}, default=str)}


# -- summarising ----------------------------------------------------------------------------------
def ranks(runs: pd.DataFrame) -> pd.DataFrame:
    """Rank per (dataset, seed): 1 = best; failed runs share the last place."""
    out = []
    for (_dataset, _seed), group in runs.groupby(["dataset", "seed"], sort=False):
        greater = common.GREATER[group["metric"].iloc[0]]
        value = group["score"].where(group["status"] == "ok")
        key = (-value if greater else value).fillna(np.inf)
        out.append(group.assign(rank=key.rank(method="average")))
    return pd.concat(out) if out else runs.assign(rank=pd.Series(dtype=float))


def mean_rank(runs: pd.DataFrame) -> pd.DataFrame:
    ranked = ranks(runs)
    table = ranked.groupby("contender").agg(mean_rank=("rank", "mean"), runs=("rank", "size"),
                                            failed=("status", lambda s: int((s != "ok").sum())))
    return table.sort_values("mean_rank").round(2)


def boot_diff(task: str, a: tuple, b: tuple, seed: int = 0, n_boot: int = N_BOOT) -> tuple[float, float, float]:
    """Difference of the primary metric (a - b) on the test rows and its bootstrap 95% interval."""
    (y, pa, classes), (_, pb, _) = a, b
    metric = common.PRIMARY[task]

    def value(idx: np.ndarray, pred: np.ndarray) -> float:
        return common.score(task, y[idx], pred[idx], classes or None)[metric]

    full = np.arange(len(y))
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if task == "binary" and len(np.unique(y[idx])) < 2:
            continue
        diffs.append(value(idx, pa) - value(idx, pb))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return value(full, pa) - value(full, pb), float(lo), float(hi)


_BOOT_CACHE: dict[tuple, tuple[float, float, float]] = {}


def outcome(runs: pd.DataFrame, a: str, b: str, results: Path) -> list[str]:
    """'win' / 'tie' / 'loss' of ``a`` against ``b`` per (dataset, seed) both attempted."""
    out = []
    for (dataset, seed), group in runs.groupby(["dataset", "seed"], sort=False):
        rows = group.set_index("contender")
        if a not in rows.index or b not in rows.index:
            continue
        ok_a, ok_b = rows.loc[a, "status"] == "ok", rows.loc[b, "status"] == "ok"
        if not (ok_a and ok_b):
            out.append("win" if ok_a else "loss" if ok_b else "tie")
            continue
        budget, task = rows.loc[a, "budget_s"], rows.loc[a, "task"]
        key = (dataset, seed, a, b, budget)
        if key not in _BOOT_CACHE:
            pa = common.load_preds(common.preds_path(results, dataset, a, seed, budget))
            pb = common.load_preds(common.preds_path(results, dataset, b, seed, budget))
            _BOOT_CACHE[key] = boot_diff(task, pa, pb, seed)
        diff, lo, hi = _BOOT_CACHE[key]
        sign = 1 if common.GREATER[common.PRIMARY[task]] else -1
        out.append("tie" if lo <= 0 <= hi else "win" if sign * diff > 0 else "loss")
    return out


def head_to_head(runs: pd.DataFrame, results: Path) -> pd.DataFrame:
    """Wins/ties/losses of each row contender against each column contender."""
    names = list(mean_rank(runs).index)
    table = pd.DataFrame("", index=names, columns=names)
    for a, b in combinations(names, 2):
        res = outcome(runs, a, b, results)
        won, tied, lost = res.count("win"), res.count("tie"), res.count("loss")
        table.loc[a, b], table.loc[b, a] = f"{won}/{tied}/{lost}", f"{lost}/{tied}/{won}"
    return table


def time_table(runs: pd.DataFrame) -> pd.DataFrame:
    ok = runs[runs["status"] == "ok"]
    return ok.groupby("contender").agg(
        median_fit_s=("fit_s", "median"), median_overrun_pct=("overrun_pct", "median"),
        max_overrun_pct=("overrun_pct", "max"), median_wall_s=("wall_s", "median"),
        median_peak_rss_mb=("peak_rss_mb", "median"), max_peak_rss_mb=("peak_rss_mb", "max"),
        median_trials=("trials", "median")).round(1)


def score_table(runs: pd.DataFrame, column: str = "score") -> pd.DataFrame:
    """Dataset × contender, mean over seeds; the metric named per dataset."""
    ok = runs[runs["status"] == "ok"]
    table = ok.pivot_table(index=["dataset", "metric" if column == "score" else "metric2"],
                           columns="contender", values=column, aggfunc="mean")
    return table.round(4)


def relative(runs: pd.DataFrame) -> pd.DataFrame:
    """Score relative to the best contender per dataset (1 = best; lower-is-better metrics inverted)."""
    ok = runs[runs["status"] == "ok"].groupby(["dataset", "metric", "contender"], as_index=False)["score"].mean()
    out = []
    for _, g in ok.groupby("dataset"):
        greater = common.GREATER[g["metric"].iloc[0]]
        best = g["score"].max() if greater else g["score"].min()
        rel = g["score"] / best if greater else best / g["score"].where(g["score"] != 0, np.nan)
        out.append(g.assign(relative=rel.fillna(1.0)))
    return pd.concat(out) if out else ok.assign(relative=pd.Series(dtype=float))


def chart(runs: pd.DataFrame, path: Path) -> None:
    import plotly.express as px

    data = relative(typed(runs))
    fig = px.bar(data, x="dataset", y="relative", color="contender", barmode="group",
                 hover_data={"score": ":.4f", "metric": True, "relative": ":.4f"},
                 title="Held-out score relative to the best contender per dataset (1 = best)")
    fig.update_layout(yaxis_title="score relative to the best (higher is better)", xaxis_title="dataset")
    low = float(data["relative"].min()) if len(data) else 0.0
    fig.update_yaxes(range=[max(0.0, low - 0.05), 1.01])
    fig.write_html(path, include_plotlyjs="cdn")


def typed(runs: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as numbers (rows appended one by one arrive as objects)."""
    runs = runs.copy()
    for col in ("seed", "score", "score2", "budget_s", "fit_s", "overrun_pct", "wall_s", "peak_rss_mb", "trials"):
        runs[col] = pd.to_numeric(runs[col], errors="coerce")
    return runs


def trained(runs: pd.DataFrame) -> pd.DataFrame:
    """What each contender trained in each run (AutoGluon's leaderboard, FLAML's learners, our algorithms)."""
    rows = []
    for r in runs.itertuples(index=False):
        extra = _extra(r.extra)
        models = [str(m) for m in extra.get("models") or []]
        more = f" (+{len(models) - 12})" if len(models) > 12 else ""
        rows.append({"dataset": r.dataset, "seed": r.seed, "contender": r.contender,
                     "best": extra.get("best_algorithm") or extra.get("model"),
                     "models": ", ".join(models[:12]) + more})
    return pd.DataFrame(rows)


OVERRUN = 1.10  # fit + predict past this multiple of the budget is flagged (the goal is 1.05 for the fit alone)


FAR_RMSE = 2.0  # an RMSE this many times the others' median is broken, not weak
FAR_GAP = {"roc_auc": 0.1, "log_loss": 1.0}  # a score this far (AUC below, log loss above) the others' median too


def _far_from_the_others(runs: pd.DataFrame, r) -> str | None:
    """Why run ``r`` is far from the other contenders on its split (None if it is not)."""
    others = runs[(runs.dataset == r.dataset) & (runs.seed == r.seed) & (runs.contender != r.contender)
                  & (runs.status == "ok")]["score"].astype(float)
    if r.status != "ok" or others.empty:
        return None
    median = float(others.median())
    if r.metric == "rmse":
        return f"{r.score / median:.1f}x the others' median" if median > 0 and r.score > FAR_RMSE * median else None
    gap = (median - r.score) if r.metric == "roc_auc" else (r.score - median)
    return f"{gap:.3g} worse than the others' median" if gap > FAR_GAP.get(r.metric, float("inf")) else None


def checks(runs: pd.DataFrame) -> list[str]:
    """Runs to distrust: far from a contender's known level, or a searcher that used under half its budget
    or ran well past it."""
    out = []
    for r in runs.itertuples(index=False):
        level = KNOWN_LEVELS.get((r.contender, r.dataset))
        if level and r.status == "ok":
            op, value = level
            if not (r.score >= value if op == ">=" else r.score <= value):
                out.append(f"- {r.contender} on {r.dataset} seed {r.seed}: {r.metric} {r.score:.4f}, known level "
                           f"{op} {value}: check its install and call before reading this row.")
        if r.contender in SEARCHERS and r.status == "ok" and r.fit_s < 0.5 * r.budget_s:
            out.append(f"- {r.contender} on {r.dataset} seed {r.seed}: used {r.fit_s:.0f} s of a {r.budget_s:.0f} s "
                       "budget (under half) — it stopped on its own; see the models it trained.")
        if r.contender in SEARCHERS and r.status == "ok" and r.fit_s > OVERRUN * r.budget_s:
            out.append(f"- {r.contender} on {r.dataset} seed {r.seed}: took {r.fit_s:.0f} s on a {r.budget_s:.0f} s "
                       f"budget (over {OVERRUN:.2f}x, fit and predict) — its score had more time than the others'.")
        if r.status != "ok":
            out.append(f"- {r.contender} on {r.dataset} seed {r.seed}: {r.status} ({str(r.error)[:120]}).")
        far = _far_from_the_others(runs, r)
        if far:
            out.append(f"- {r.contender} on {r.dataset} seed {r.seed}: {r.metric} {r.score:.4g}, {far} on the same "
                       "split: a broken call or prediction, not a weak model, until checked.")
    return out or ["- none: every run is within its known level and used between half its budget and "
                   f"{OVERRUN:.2f}x it."]


def _extra(value) -> dict:
    try:
        return json.loads(value) if isinstance(value, str) and value else {}
    except ValueError:
        return {}


def markdown(runs: pd.DataFrame, results: Path, header: str) -> str:
    runs = typed(runs)
    goal = goal_table(runs, results)
    parts = [header, "## Mean rank (1 = best; failed runs ranked last)", to_md(mean_rank(runs)),
             "## Primary metric on the test split (mean over seeds)", to_md(score_table(runs)),
             "## Secondary metric (accuracy / R²)", to_md(score_table(runs, "score2")),
             "## The goal: ours against the best other tool per table, all seeds",
             "Best other tool: best mean over the seeds. Difference: mean over seeds of ours minus it (negative is "
             "better for rmse/log_loss), with a 95% interval resampling each seed's test rows; a tie holds 0.",
             goal_summary(goal), to_md(goal, index=False),
             "## Wins/ties/losses of the row against the column",
             "A tie: the bootstrap 95% interval of the metric difference on the test rows contains 0.",
             to_md(head_to_head(runs, results)),
             "## Time against the budget, memory, trials", to_md(time_table(runs)),
             "## Checks", "\n".join(checks(runs)),
             "## What each contender trained", to_md(trained(runs), index=False),
             "## Every run", to_md(runs.drop(columns=["extra"]).round({"score": 4, "score2": 4}), index=False)]
    return "\n\n".join(parts) + "\n"


def to_md(frame: pd.DataFrame, index: bool = True) -> str:
    """A GitHub Markdown table (without the optional tabulate dependency)."""
    if index:
        names = [n or "" for n in frame.index.names]
        frame = frame.reset_index()
        frame.columns = [*names, *frame.columns[len(names):]]
    cells = lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).replace("|", "\\|")
    lines = ["| " + " | ".join(str(c) for c in frame.columns) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cells(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write_reports(runs: pd.DataFrame, results: Path, stem: str, header: str) -> None:
    (results / f"{stem}.md").write_text(markdown(runs, results, header))
    chart(runs, results / f"{stem}.html")


# -- command line ---------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--datasets", nargs="*")
    p.add_argument("--seeds", nargs="*", type=int, default=[0])
    p.add_argument("--contenders", default=",".join(DEFAULT), help=f"from: {', '.join(CONTENDERS)}")
    p.add_argument("--data-dir")
    p.add_argument("--results", default=str(common.RESULTS))
    p.add_argument("--quick", action="store_true", help="2 small datasets, 10 s budget, 1 seed")
    p.add_argument("--fresh", action="store_true", help="ignore runs already in the CSV")
    p.add_argument("--report", action="store_true", help="only rewrite the reports from the CSV")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.quick:
        args.budget, args.seeds, args.datasets = 10.0, args.seeds[:1], args.datasets or QUICK_DATASETS
    data_dir, results = common.data_dir(args.data_dir), Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    specs = [s for s in common.manifest(data_dir) if not args.datasets or s.name in args.datasets]
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = [c for c in contenders if c not in CONTENDERS]
    if unknown:
        print(f"Unknown contender(s): {unknown}. Choose from {list(CONTENDERS)}.", file=sys.stderr)
        return 2
    stem = "quality_quick" if args.quick else f"quality_b{args.budget:g}"
    csv = results / f"{stem}.csv"
    runs = pd.read_csv(csv) if csv.exists() and not args.fresh else pd.DataFrame(columns=COLUMNS)
    header = (f"# Quality at a {args.budget:g} s budget\n\nMachine at start: {common.machine()}, "
              f"{time.strftime('%Y-%m-%d %H:%M')}. Seeds {args.seeds}; 80/20 stratified split per seed; "
              "2 cores (n_jobs=2) per contender, one contender at a time.")
    if args.report:
        header = (results / f"{stem}.md").read_text().split("\n\n## ")[0] if (results / f"{stem}.md").exists() \
            else header
        write_reports(runs, results, stem, header)
    for seed in [] if args.report else args.seeds:
        for spec in specs:
            for contender in contenders:
                done = ((runs["dataset"] == spec.name) & (runs["seed"] == seed) & (runs["contender"] == contender))
                if done.any():
                    continue
                row = run_one(spec, contender, seed, args.budget, data_dir, results)
                row["load_1m"] = round(os.getloadavg()[0], 2)
                print(f"{spec.name:22s} s{seed} {contender:13s} {row['status']:7s} {row['metric']}="
                      f"{row['score']} fit={row['fit_s']}s rss={row['peak_rss_mb']}MB trials={row['trials']}",
                      flush=True)
                runs = pd.concat([runs, pd.DataFrame([row])], ignore_index=True)
                runs.to_csv(csv, index=False)
    if len(runs) and not args.report:
        # once at the end: the report bootstraps every pair of contenders, minutes with 80 runs
        write_reports(runs, results, stem, header)
    if len(runs):
        print(mean_rank(runs).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
