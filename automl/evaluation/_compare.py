"""Two experiments side by side: what differs in their set-up and how they score on held-out rows.

The scores are the stored held-out figures (:mod:`automl.evaluation._stored`), the very
numbers Results, the report and the model card show, written the same way. The better
value of each metric is marked by that metric's own direction. Two experiments that
predict different things are not compared at all, and one without a model is shown
as such: a number next to "failed" would read as a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from automl.errors import AutoMLError
from automl.evaluation._format import MISSING, format_interval, format_metric
from automl.evaluation._scores import Evaluation
from automl.evaluation._stored import stored_evaluation
from automl.experiment import CANCELLED, COMPLETED, Experiment, ExperimentMeta, model_summary
from automl.metrics import METRICS

CONFIG_KEYS = ("time_budget", "trials", "metric", "seed", "cv_folds", "holdout", "algorithms", "ensemble", "source")
BEST_MARK = " ★"  # after the better value of a metric row
BEST, TIE, INTERVAL = "best", "tie", "interval"
NONE = "—"


@dataclass
class Comparison:
    """Two experiments compared; ``refused`` says why they can't be (then there are no metric tables)."""

    names: list[str]
    summary: pd.DataFrame
    holdout: pd.DataFrame  # index: metric name; "metric" (label), one text column per experiment, "best"
    values: pd.DataFrame  # the same rows as numbers, for downloads and tests
    config: pd.DataFrame
    refused: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. which experiment has no metrics, and why

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"summary": self.summary, "holdout": self.holdout, "values": self.values, "config": self.config}


def compare(a: Experiment, b: Experiment) -> Comparison:
    """Compare ``a`` and ``b``: summary, held-out metrics (better one marked) and configuration differences."""
    ra, rb = a.record, b.record
    names = [f"{ra.name or a.id} ({a.id[:6]})", f"{rb.name or b.id} ({b.id[:6]})"]
    summary = pd.DataFrame({names[0]: _summary(ra, a), names[1]: _summary(rb, b)})
    ca, cb = ra.config.to_dict(), rb.config.to_dict()
    diff = {k: (str(ca.get(k)), str(cb.get(k))) for k in CONFIG_KEYS if ca.get(k) != cb.get(k)}
    config = pd.DataFrame(diff, index=names).T if diff else pd.DataFrame(columns=names)
    empty = pd.DataFrame(columns=["metric", *names, BEST])
    refused = "This is one experiment twice: pick two different ones to compare." if a.id == b.id else \
        refusal(ra, rb, names)
    if refused:
        return Comparison(names, summary, empty, pd.DataFrame(columns=names), config, refused)
    scored, notes = [], []
    for name, exp in zip(names, (a, b)):
        evaluation, why = _scores(exp)
        scored.append(evaluation)
        if why:
            notes.append(f"{name} {why}, so it has no held-out metrics to compare.")
    holdout, values = _metric_tables(scored, names)
    return Comparison(names, summary, holdout, values, config, None, notes)


def refusal(ra: ExperimentMeta, rb: ExperimentMeta, names: list[str]) -> str | None:
    """One sentence saying why two experiments can't be compared, or None when they can."""
    if None in (ra.task, rb.task, ra.target, rb.target):
        return None  # one stopped before its table was read: shown as failed, not refused
    if ra.task != rb.task or ra.target != rb.target:
        return (f"These two can't be compared: {names[0]} is a {ra.task} task predicting '{ra.target}' and "
                f"{names[1]} a {rb.task} task predicting '{rb.target}', and held-out scores only compare "
                "between models of the same task and target.")
    return None


def _summary(record: ExperimentMeta, exp: Experiment) -> dict[str, str]:
    best = record.best.cv_score if record.best else None
    timing = record.timing
    return {"status": exp.status, "task": record.task or NONE, "target": record.target or NONE,
            "metric": record.metric or NONE, "model": model_summary(record).short if exp.has_model else NONE,
            "best CV score": NONE if best is None else format_metric(best),
            "trials": NONE if timing.trials is None else f"{timing.trials:,}",
            "duration (s)": NONE if timing.elapsed_s is None else f"{timing.elapsed_s:,.0f}",
            "training rows": NONE if record.rows.train is None else f"{record.rows.train:,}",
            "held-out rows": NONE if record.rows.holdout is None else f"{record.rows.holdout:,}",
            "created": record.created or NONE}


def _scores(exp: Experiment) -> tuple[Evaluation | None, str | None]:
    """The stored held-out figures of ``exp``, or why it has none."""
    status = exp.status
    if status not in (COMPLETED, CANCELLED):
        return None, (f"failed ({exp.no_model_reason()})" if status == "failed" else f"is {status}")
    if not exp.has_model:
        return None, f"has no model ({exp.no_model_reason()})"
    try:
        return stored_evaluation(exp), None
    except AutoMLError as err:
        return None, f"could not be scored ({err.problem})"


def _metric_tables(scored: list[Evaluation | None], names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Text and number tables: one row per metric in the registry's order, then the headline's interval."""
    present = set().union(*(set(e.metrics) for e in scored if e is not None))
    metrics = [m for m in METRICS if m in present] + sorted(present - set(METRICS))
    task = next(e.task for e in scored if e is not None) if present else None
    values = pd.DataFrame({n: [None if e is None else e.metrics.get(m) for m in metrics]
                           for n, e in zip(names, scored)}, index=metrics, dtype=float)
    rows = []
    for m in metrics:
        texts = [NONE if e is None else format_metric(e.metrics.get(m)) for e in scored]
        winner = _better(m, *values.loc[m].tolist(), *texts)
        best = "" if winner is None else names[winner]
        if winner is not None:
            texts[winner] += BEST_MARK
        elif texts[0] == texts[1] and texts[0] not in (NONE, MISSING):
            best = TIE
        label = METRICS[m].label_for(task) if m in METRICS else m
        rows.append({"metric": label, **dict(zip(names, texts)), BEST: best})
    if any(e is not None and e.interval for e in scored):
        rows.append({"metric": "95% bootstrap interval of the headline", BEST: "",
                     **{n: _interval_text(e, len({x.headline for x in scored if x is not None}) > 1)
                        for n, e in zip(names, scored)}})
        metrics = [*metrics, INTERVAL]
    return pd.DataFrame(rows, index=metrics, columns=["metric", *names, BEST]), values


def _interval_text(evaluation: Evaluation | None, name_it: bool) -> str:
    if evaluation is None or not evaluation.interval:
        return NONE
    text = format_interval(evaluation.interval)
    return f"{evaluation.label(evaluation.headline)}: {text}" if name_it else text


def _better(metric: str, a: float, b: float, text_a: str, text_b: str) -> int | None:
    """0 or 1: which experiment scores better by ``metric``'s direction; None when either lacks it, the
    metric is unknown, or the two are the same as shown (a star between equal-looking numbers misleads)."""
    if metric not in METRICS or pd.isna(a) or pd.isna(b) or text_a == text_b:
        return None
    return 0 if (a > b) == METRICS[metric].greater_is_better else 1
