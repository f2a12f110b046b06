"""How long a drift report takes on 100,000 live rows × 50 features (target: under 3 s).

Run: /work/venv/bin/python bench/monitor_speed.py
(on a shared machine, OMP_NUM_THREADS=1 keeps the model's OpenMP threads from thrashing)
Synthetic data: 40 numeric and 10 categorical features, a binary target, a
HistGradientBoosting pipeline; live rows with a few features shifted. The
report includes prediction drift, performance (labels present), confidence-based
estimates and, in a second run, drift per day.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from automl.data import build_pipeline, infer_schema
from automl.monitor import build_reference, monitor

N_TRAIN, N_LIVE, N_NUM, N_CAT = 50_000, 100_000, 40, 10


def make_rows(n: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    data = {f"x{i}": rng.normal(shift if i < 5 else 0.0, 1.0 + i / 20, n) for i in range(N_NUM)}
    for j in range(N_CAT):
        levels = [f"c{j}_{k}" for k in range(3 + j * 3)]
        p = np.linspace(1, 2 + (shift if j == 0 else 0), len(levels))
        data[f"cat{j}"] = rng.choice(levels, n, p=p / p.sum())
    frame = pd.DataFrame(data)
    frame.loc[rng.random(n) < 0.02, "x7"] = np.nan
    logit = frame["x0"] - 0.5 * frame["x1"] + (frame["cat0"] == "c0_0") * 0.8
    frame["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return frame


def main() -> None:
    rng = np.random.default_rng(0)
    train, live = make_rows(N_TRAIN, rng), make_rows(N_LIVE, rng, shift=0.3)
    live["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30 * 24, N_LIVE), unit="h")
    X, y = train.drop(columns=["y"]), train["y"]
    schema = infer_schema(X)
    model = build_pipeline(schema, HistGradientBoostingClassifier(max_iter=100, random_state=0), "tree",
                           "binary").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proba = pd.DataFrame(model.predict_proba(X), columns=[str(c) for c in model.classes_])
    start = time.perf_counter()
    reference = build_reference(X, schema, proba, "binary", target=y, positive_class="yes")
    built = time.perf_counter() - start
    importances = {c: 1.0 / (1 + i) for i, c in enumerate(X.columns)}
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        report = monitor(reference, live, importances=importances, model=model, target="y", task="binary",
                         positive="yes")
        timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    drift_only = monitor(reference, live, importances=importances)
    drift_only_s = time.perf_counter() - start
    start = time.perf_counter()
    timed = monitor(reference, live, importances=importances, model=model, target="y", task="binary",
                    positive="yes", timestamp_column="when")
    timed_s = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.predict_proba(live)
    predict_s = time.perf_counter() - start
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"reference build ({N_TRAIN:,} rows x {N_NUM + N_CAT} features): {built:.2f} s")
    print(f"report, {N_LIVE:,} live rows x {N_NUM + N_CAT} features, model + labels: "
          f"best {min(timings):.2f} s, median {sorted(timings)[1]:.2f} s (target < 3 s)")
    print(f"  of which the model's own predict_proba on the live rows: {predict_s:.2f} s")
    print(f"report without a model (drift only): {drift_only_s:.2f} s")
    print(f"report with drift per day ({len(timed.over_time)} days): {timed_s:.2f} s")
    print(f"headline: {report.headline} | drifted: {[r['column'] for r in drift_only.features if r['drifted']]}")


if __name__ == "__main__":
    main()
