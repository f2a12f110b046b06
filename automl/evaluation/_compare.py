"""Two experiments side by side: what differs in their set-up and how they score.

Held-out metrics are listed in the registry's order, and each says which experiment
scores better by that metric's own direction.
"""

from __future__ import annotations

import pandas as pd

from automl.experiment import Experiment, ExperimentMeta, model_summary
from automl.metrics import METRICS

CONFIG_KEYS = ("time_budget", "trials", "metric", "seed", "cv_folds", "holdout", "algorithms", "ensemble", "source")


def compare(a: Experiment, b: Experiment) -> dict[str, pd.DataFrame]:
    """Tables: ``summary`` (status, task, best, timing), ``holdout`` (metric by metric), ``config`` (differences)."""
    ra, rb = a.record, b.record
    names = [f"{ra.name or a.id} ({a.id[:6]})", f"{rb.name or b.id} ({b.id[:6]})"]

    def summary(record: ExperimentMeta, exp: Experiment) -> dict:
        return {"status": exp.status, "task": record.task, "target": record.target, "metric": record.metric,
                "model": model_summary(record).short, "best CV score": record.best.cv_score if record.best else None,
                "trials": record.timing.trials, "duration (s)": record.timing.elapsed_s,
                "training rows": record.rows.train, "created": record.created}

    summary_table = pd.DataFrame({names[0]: summary(ra, a), names[1]: summary(rb, b)})
    metrics = _registry_order(set(ra.holdout) | set(rb.holdout))
    holdout = pd.DataFrame({names[0]: [ra.holdout.get(m) for m in metrics],
                            names[1]: [rb.holdout.get(m) for m in metrics]}, index=metrics)
    holdout["better"] = [_better(m, row.iloc[0], row.iloc[1], names) for m, row in holdout.iterrows()]
    ca, cb = ra.config.to_dict(), rb.config.to_dict()
    diff = {k: (str(ca.get(k)), str(cb.get(k))) for k in CONFIG_KEYS if ca.get(k) != cb.get(k)}
    config = pd.DataFrame(diff, index=names).T if diff else pd.DataFrame(columns=names)
    return {"summary": summary_table.astype(str), "holdout": holdout, "config": config}



def _registry_order(metrics: set[str]) -> list[str]:
    """The registry's order (the held-out report's), then any metric it doesn't know, alphabetically."""
    return [m for m in METRICS if m in metrics] + sorted(metrics - set(METRICS))


def _better(metric: str, a: float | None, b: float | None, names: list[str]) -> str:
    """Which experiment scores better by ``metric``'s direction; "" when either lacks it or it is unknown."""
    if metric not in METRICS or pd.isna(a) or pd.isna(b):
        return ""
    if a == b:
        return "same"
    return names[0] if (a > b) == METRICS[metric].greater_is_better else names[1]
