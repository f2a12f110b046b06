"""How long the Explain page waits for its SHAP values on a fitted default ensemble, before and after.

Run: python bench/explain_speed.py [--before /work/wt-explain-before] [--budget 60] [--out <file.md>]

Two synthetic tables: 50,000 rows x 10 columns (regression, like diamonds) and 10,000 rows x 50 columns
(binary). Each is fitted once with the default search (ensemble on, ``--budget`` seconds); then the same
experiment folder (copied, without cached explanations) is explained by a fresh process of each code
version: ``--before`` is a checkout of the code to compare with (``git worktree add --detach <dir> <rev>``),
"after" is this tree. Each process times ``explain_experiment(experiment)`` with its defaults - exactly
what the Explain page and the report call - from the call to the values being stored (building the
explainers, numba's first compile included). Goals on an idle 2-core machine: <= 5 s (50k x 10) and
<= 10 s (10k x 50). The machine may be shared: the load average is recorded beside every timing, and the
before/after ratio comes from one run, the two versions back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"50k x 10": 5.0, "10k x 50": 10.0}

# Run in a child process with the code version on sys.path: time explain_experiment on one experiment folder.
CHILD = """
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
from automl.experiment import Experiment
from automl.explain import explain_experiment
exp = Experiment(sys.argv[2])
start, cpu = time.perf_counter(), time.process_time()
result = explain_experiment(exp)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "rows": result.n_rows_used, "total": result.n_rows_total, "explainer": result.explainer,
                  "output": result.output, "load": os.getloadavg()[0]}))
"""


def tables() -> dict[str, tuple[pd.DataFrame, str]]:
    from sklearn.datasets import make_classification, make_friedman1

    X, y = make_friedman1(n_samples=50_000, n_features=10, noise=1.0, random_state=0)
    wide_X, wide_y = make_classification(n_samples=10_000, n_features=50, n_informative=15, random_state=0)
    return {"50k x 10": (pd.DataFrame(X, columns=[f"f{i}" for i in range(10)]).assign(y=y), "y"),
            "10k x 50": (pd.DataFrame(wide_X, columns=[f"f{i}" for i in range(50)]).assign(y=wide_y), "y")}


def fitted(name: str, frame: pd.DataFrame, target: str, workspace: Path, budget: float):
    import automl

    start = time.perf_counter()
    exp = automl.fit(frame, target, seed=0, time_budget=budget, workspace=workspace, name=name)
    members = exp.record.model.ensemble.members if exp.record.model.ensemble else ()
    what = ", ".join(f"{m.algorithm} {m.weight:.2f}" for m in members) or exp.record.model.algorithm
    print(f"{name}: fitted in {time.perf_counter() - start:.0f} s: {what}", flush=True)
    return exp, what


def forced_ensemble(exp, scratch: Path):
    """A copy of ``exp`` whose model is an ensemble of the registry's first default configurations of
    LightGBM, HistGradientBoosting and the linear model (weights 0.5 / 0.3 / 0.2), fitted on its training rows:
    the ensemble case when the search itself ended with one model. No forests: see the results file."""
    import automl
    from automl.algorithms import ALGORITHMS
    from automl.data import build_pipeline
    from automl.experiment import Experiment
    from automl.final import WeightedEnsemble

    copy = Experiment(Path(shutil.copytree(exp.path, scratch / f"{exp.id}-ensemble")))
    data = automl.prepare_dataset(copy.train_frame(), copy.target)
    linear = "ridge" if copy.task == "regression" else "logistic_regression"
    names = ["lightgbm", "hist_gradient_boosting", linear]
    fitted = [build_pipeline(data.schema, ALGORITHMS[n].make(dict(ALGORITHMS[n].defaults[0]), copy.task, 0),
                             ALGORITHMS[n].style, copy.task).fit(data.X, data.y) for n in names]
    copy.save_model(WeightedEnsemble(fitted, [0.5, 0.3, 0.2], copy.task)._set_fitted())
    copy.update(model={"kind": "ensemble", "algorithm": "ensemble"})
    return copy, ", ".join(f"{n} {w}" for n, w in zip(names, [0.5, 0.3, 0.2])) + " (forced)"


def explain_with(code: Path, exp_path: Path, scratch: Path) -> dict:
    copy = scratch / f"{exp_path.name}-{code.name}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(exp_path, copy, ignore=shutil.ignore_patterns("explain"))
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(code), str(copy)], capture_output=True, text=True,
                         env=env, cwd=str(code), timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "load_before": os.getloadavg()[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=Path("/work/wt-explain-before"))
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--force-ensemble", action=argparse.BooleanOptionalAction, default=True,
                        help="when the search ends with one model, also time a forced three-member ensemble")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "explain_speed.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(ROOT))
    load0 = os.getloadavg()
    lines = ["# Explain speed: default ensemble, SHAP values ready\n",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
             f"load average at start {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f} (1/5/15 min); "
             f"{time.strftime('%Y-%m-%d %H:%M')}. Fit budget {args.budget:.0f} s per table.\n",
             "| table | ensemble | code | seconds | CPU s | rows explained | load (1 min) | explainer |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for name, (frame, target) in tables().items():
            exp, what = fitted(name, frame, target, scratch / "ws", args.budget)
            cases = [(exp, what)]
            if exp.record.model.ensemble is None and args.force_ensemble:
                cases.append(forced_ensemble(exp, scratch))
            for exp, what in cases:
                lines += run_case(name, exp, what, args, scratch, ratios)
    lines += ["", "Ratios (the two versions back to back, same load):", *ratios, ""]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def run_case(name: str, exp, what: str, args, scratch: Path, ratios: list[str]) -> list[str]:
    """Both code versions on one experiment, back to back: table lines, and a ratio appended to ``ratios``."""
    lines, runs = [], {}
    for label, code in (("before", args.before), ("after", ROOT)):
        runs[label] = r = explain_with(code, exp.path, scratch)
        print(f"  {label}: {r}", flush=True)
        if "error" in r:
            lines.append(f"| {name} | {what} | {label} | failed | | | | {r['error']} |")
            continue
        goal = f" (goal <= {GOALS[name]:.0f} s)" if label == "after" else ""
        lines.append(f"| {name} | {what} | {label} | {r['seconds']:.1f}{goal} | {r['cpu']:.1f} | "
                     f"{r['rows']:,} of {r['total']:,} | {r['load']:.1f} | {r['explainer']} |")
    if all("seconds" in r for r in runs.values()):
        ratios.append(f"- {name}, {what}: after/before = "
                      f"{runs['after']['seconds'] / runs['before']['seconds']:.2f} in wall time, "
                      f"{runs['after']['cpu'] / runs['before']['cpu']:.2f} in CPU time, "
                      f"{runs['after']['rows'] / max(runs['before']['rows'], 1):.1f}x the rows")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
