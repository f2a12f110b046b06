"""How long held-out evaluation takes (metrics + 1,000-resample bootstrap + plot data + figures) by size.

Run: python bench/bench_evaluate.py   (prints one line per case; no thresholds enforced)
"""

from __future__ import annotations

import time

import numpy as np

from automl.evaluation import evaluate, evaluation_data
from automl.plots.evaluation import evaluation_figures


def synthetic(task: str, n: int, seed: int = 0):
    """Scores loosely related to the labels, so curves and metrics are not degenerate."""
    rng = np.random.default_rng(seed)
    if task == "regression":
        y = rng.lognormal(12, 0.4, n)
        return y, y * rng.normal(1, 0.15, n), None, []
    k = 2 if task == "binary" else 6
    classes = [f"c{i}" for i in range(k)]
    yi = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), yi] += 1.5
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.asarray(classes, dtype=object)
    return labels[yi], labels[proba.argmax(1)], proba, classes


def main() -> None:
    print(f"{'task':<11}{'rows':>9}{'headline':>10}{'evaluate s':>12}{'cpu s':>8}{'+plots s':>10}")
    for task, metric in (("binary", "roc_auc"), ("multiclass", "log_loss"), ("regression", "rmse")):
        for n in (1_000, 10_000, 100_000):
            y, pred, proba, classes = synthetic(task, n)
            positive = "c1" if task == "binary" else None
            start, cpu = time.perf_counter(), time.process_time()
            evaluate(y, pred, proba, classes, task, positive, metric)
            t_eval, t_cpu = time.perf_counter() - start, time.process_time() - cpu
            start = time.perf_counter()
            evaluation_figures(evaluation_data(y, pred, proba, classes, task, positive, metric))
            t_all = time.perf_counter() - start
            print(f"{task:<11}{n:>9,}{metric:>10}{t_eval:>12.2f}{t_cpu:>8.2f}{t_all:>10.2f}")
    y, pred, proba, classes = synthetic("multiclass", 100_000)
    for metric in ("f1", "roc_auc", "mcc"):
        start, cpu = time.perf_counter(), time.process_time()
        evaluate(y, pred, proba, classes, "multiclass", None, metric)
        print(f"multiclass {100_000:>9,}{metric:>10}{time.perf_counter() - start:>12.2f}"
              f"{time.process_time() - cpu:>8.2f}")


if __name__ == "__main__":
    main()
