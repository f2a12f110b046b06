"""Speed figures of the product: dashboard render, SHAP, drift report, prediction throughput, model load.

Run: ``python -m bench.speed`` (``--trials 200``; the experiment is built once and
reused from ``--workspace``). Prints each figure with the machine and writes
bench/results/speed.md. Targets: Results page first render < 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench import common

DATA = common.ROOT / "tests" / "fixtures" / "credit-g.csv"
TARGET = "class"
APP = str(common.ROOT / "dashboard" / "app.py")
ROWS = 100_000
ALGORITHMS = ("lightgbm", "logistic_regression")


def timed(func: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def experiment(workspace: Path, trials: int):
    """A completed ``trials``-trial experiment on credit-g: reused if the workspace already has one."""
    import automl
    from automl.experiment import Workspace

    for exp in Workspace(workspace).list():
        if exp.meta.get("status") == "completed" and (exp.meta.get("timing") or {}).get("trials", 0) >= trials:
            return exp, None
    # Fast algorithms and 3 folds: the page's cost grows with the number of trials, not with their cost,
    # and 200 trials of every algorithm take too long on a shared 2-core machine.
    seconds, exp = timed(lambda: automl.fit(str(DATA), TARGET, trials=trials, time_budget=None, seed=0,
                                            ensemble=False, workspace=workspace, name=f"speed {trials} trials",
                                            algorithms=list(ALGORITHMS), cv_folds=3))
    return exp, seconds


def render(exp_id: str, workspace: Path) -> dict[str, float]:
    """The Results page through AppTest: app start, first render, and a second (cached) render."""
    from streamlit.testing.v1 import AppTest

    os.environ["AUTOML_WORKSPACE"] = str(workspace)
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["experiment"] = exp_id
    start_s, _ = timed(at.run)
    at.switch_page("app_pages/results.py")
    first_s, _ = timed(at.run)
    second_s, _ = timed(at.run)
    if at.exception:
        raise RuntimeError(f"the Results page raised: {at.exception[0].value}")
    return {"app start (Data page)": start_s, "Results page, first render": first_s,
            "Results page, second render (cached)": second_s}


def live_rows(exp, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows resampled from the training rows, one numeric feature shifted (so drift is found)."""
    train = exp.train_frame()
    rng = np.random.default_rng(seed)
    live = train.iloc[rng.integers(0, len(train), n)].reset_index(drop=True)
    numeric = [c for c in exp.schema.features if pd.api.types.is_numeric_dtype(live[c])]
    if numeric:
        live[numeric[0]] = live[numeric[0]] * 1.3
    return live


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--workspace", default=str(Path("/tmp") / "automl-bench-speed"))
    p.add_argument("--out", default=str(common.RESULTS / "speed.md"))
    args = p.parse_args(argv)
    workspace = Path(args.workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, str]] = []
    notes: list[str] = []

    def note(label: str, value: str) -> None:
        figures.append((label, value))
        print(f"{label}: {value}", flush=True)

    print(f"machine: {common.machine()}", flush=True)
    exp, build_s = experiment(workspace, args.trials)
    timing = exp.meta.get("timing", {})
    note(f"experiment ({timing.get('trials')} trials, {exp.meta.get('rows')})",
         "reused" if build_s is None else f"built in {build_s:.1f} s")
    for label, seconds in render(exp.id, workspace).items():
        note(label, f"{seconds:.2f} s" + (" (target < 1.5 s)" if "first" in label else ""))

    model_path = exp.model_path
    import joblib

    loads = [timed(lambda: joblib.load(model_path))[0] for _ in range(5)]
    note("model load (joblib), median of 5", f"{statistics.median(loads) * 1000:.0f} ms "
         f"({model_path.stat().st_size / 1024:.0f} KB)")
    model = joblib.load(model_path)
    live = live_rows(exp, ROWS)
    X = live[exp.schema.features]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.predict(X.head(100))
        runs = [timed(lambda: model.predict(X))[0] for _ in range(3)]
    note(f"prediction throughput in-process ({ROWS:,} rows, best of 3)",
         f"{ROWS / min(runs):,.0f} rows/s ({min(runs):.2f} s)")

    try:
        from automl.explain import explain_experiment
    except ImportError:
        notes.append("SHAP: automl.explain not importable, skipped.")
    else:
        shap_s, expl = timed(lambda: explain_experiment(exp, max_rows=2000, seed=12345, time_budget=None))
        note(f"SHAP ({expl.explainer}, {expl.n_rows_used} rows x {len(expl.features)} features, cold)",
             f"{shap_s:.2f} s")
        cached_s, _ = timed(lambda: explain_experiment(exp, max_rows=2000, seed=12345, time_budget=None))
        note("SHAP, same call again (cache)", f"{cached_s * 1000:.0f} ms")
    try:
        from automl.monitor import monitor_experiment
    except ImportError:
        notes.append("Drift: automl.monitor not importable, skipped.")
    else:
        for n in (10_000, ROWS):
            drift_s, report = timed(lambda n=n: monitor_experiment(exp, live.head(n)))
            note(f"drift report ({n:,} live rows x {len(exp.schema.features)} features, with labels)",
                 f"{drift_s:.2f} s")

    write(Path(args.out), figures, notes, exp)
    return 0


def write(path: Path, figures: list[tuple[str, str]], notes: list[str], exp) -> None:
    lines = ["# Speed", "", f"Machine: {common.machine()} (load: 1/5/15-minute averages; the machine is shared, "
             "so figures are noisy), " + time.strftime("%Y-%m-%d %H:%M") + ".", "",
             f"Experiment: credit-g ({exp.meta.get('rows')}), model {(exp.meta.get('model') or {}).get('algorithm')}, "
             f"{(exp.meta.get('timing') or {}).get('trials')} trials of {', '.join(ALGORITHMS)} (3-fold CV), "
             "ensemble off.",
             "",
             "| figure | value |", "|---|---|", *[f"| {a} | {b} |" for a, b in figures], ""]
    lines += [f"- {n}" for n in notes]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
