"""How long SHAP explanations take (run: python bench/explain_speed.py).

Targets: TreeSHAP of a LightGBM model over 10,000 rows x 50 features in under 10 s;
the model-agnostic explainer of an SVM and a kNN (a few thousand training rows) in
under 60 s, by sampling rows within its time budget. Only the explanation is timed
(model training is not), as wall time; the process's CPU time is printed beside the
tree figure because a shared machine's load inflates wall time. A model-agnostic
explainer's first use in a process also compiles shap's numba code: that is timed
apart ("explainer built in").
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_classification

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import automl  # noqa: E402
from automl.explain import explain_experiment, explain_row, make_explainer  # noqa: E402

TREE_TARGET_S, KERNEL_TARGET_S = 10.0, 60.0


def table(n_rows: int, n_features: int, seed: int) -> pd.DataFrame:
    X, y = make_classification(n_samples=n_rows, n_features=n_features, n_informative=min(20, n_features // 2),
                               random_state=seed)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(n_features)])
    return frame.assign(target=y)


def fit(frame: pd.DataFrame, algorithm: str, workspace: Path) -> automl.Experiment:
    return automl.fit(frame, "target", trials=1, seed=0, ensemble=False, algorithms=[algorithm], workspace=workspace)


def bench_tree(workspace: Path) -> bool:
    # 12,500 rows: the held-out 20 % leaves exactly 10,000 training rows to explain.
    exp = fit(table(12_500, 50, seed=0), "lightgbm", workspace)
    start, cpu = time.perf_counter(), time.process_time()
    result = explain_experiment(exp, max_rows=10_000, time_budget=None)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    explain_experiment(exp, max_rows=10_000, time_budget=None)
    cached = time.perf_counter() - start
    ok = seconds < TREE_TARGET_S and result.n_rows_used == 10_000
    print(f"lightgbm  {result.n_rows_used:>6,} rows x {len(result.features)} features  {seconds:6.2f} s "
          f"(target < {TREE_TARGET_S:.0f} s: {'OK' if ok else 'MISSED'}; CPU time {cpu:.2f} s); "
          f"reopened from cache in {cached:.3f} s; "
          f"{result.explainer}")
    return ok


def bench_kernel(algorithm: str, workspace: Path) -> bool:
    exp = fit(table(4_000, 20, seed=1), algorithm, workspace)
    start = time.perf_counter()
    explainer = make_explainer(exp)
    built = time.perf_counter() - start
    del explainer
    start = time.perf_counter()
    result = explain_experiment(exp)  # defaults: at most 2,000 rows, 30 s budget
    seconds = time.perf_counter() - start
    row = exp.train_frame()[exp.schema.features].iloc[[0]]
    start = time.perf_counter()
    explain_row(exp, row)
    local = time.perf_counter() - start
    ok = seconds < KERNEL_TARGET_S
    print(f"{algorithm:<9} {result.n_rows_used:>6,} of {result.n_rows_total:,} rows x {len(result.features)} features "
          f"{seconds:6.2f} s (target < {KERNEL_TARGET_S:.0f} s: {'OK' if ok else 'MISSED'}); "
          f"explainer built in {built:.2f} s; one new row explained in {local:.2f} s; {result.explainer}")
    return ok


def main() -> int:
    warnings.simplefilter("ignore")
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"machine: {platform.machine()} {platform.system()}, os.cpu_count()={os.cpu_count()}, "
          f"load average {load[0]:.1f}, python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench_tree(Path(tmp) / "tree"), bench_kernel("svm", Path(tmp) / "svm"),
                   bench_kernel("knn", Path(tmp) / "knn")]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
