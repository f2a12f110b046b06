"""The model card: what the model is for, what it expects, how well it did and where it falls short.

Built from the experiment folder only (experiment.json, the held-out rows, and
explain/importance.json and fairness.json when a colleague's step wrote them),
so the bundle, the report and the dashboard show the same card. A missing
piece is stated, never guessed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from automl.data import USABLE_KINDS
from automl.evaluation import evaluate_experiment, format_interval, format_metric
from automl.experiment import TRAIN, Experiment, model_summary

SMALL_DATA_ROWS = 1000
IMBALANCE_SHARE = 0.2  # a class below this share of training rows gets a warning
CATEGORIES_SHOWN = 30


def model_card(experiment: Experiment) -> dict[str, Any]:
    """The card as a JSON-ready dict (see :func:`model_card_markdown` for the readable form)."""
    record, schema = experiment.record, experiment.schema
    summary = model_summary(record)
    members = [{"trial": m.trial, "algorithm": m.algorithm, "label": m.label, "weight": m.weight}
               for m in summary.members]
    return {
        "experiment": {"id": experiment.id, "name": record.name},
        "model": {"kind": "ensemble" if summary.is_ensemble else "single", "algorithm": summary.algorithm,
                  "label": summary.label, "description": summary.text(), "members": members or None,
                  "params": record.best.params if record.best else None, "decision_threshold": record.threshold,
                  "trained_rows": record.model.trained_rows if record.model else None,
                  "trained_on": record.model.trained_on if record.model else None},
        "task": record.task, "target": record.target, "classes": list(record.classes),
        "positive_class": record.positive_class, "metric": record.metric,
        "data": {"rows": record.rows.to_dict() or None, "columns": [_column(c) for c in schema.columns]},
        "performance": _performance(experiment),
        "training": {"created": record.created, "finished": record.finished, "elapsed_s": record.timing.elapsed_s,
                     "trials": record.timing.trials, "cv_folds": record.config.cv_folds},
        "versions": dict(record.versions),
        "top_features": _top_features(experiment),
        "intended_use": (f"Predict '{record.target}' ({record.task}) for new rows that look like the "
                         "training table: the same columns, the same meaning, values in the training ranges. "
                         "It supports decisions; it does not replace a person's review."),
        "limitations": limitations(experiment),
    }


def _column(col) -> dict[str, Any]:
    out = {"name": col.name, "kind": col.kind, "dtype": col.dtype, "used": col.kind in USABLE_KINDS,
           "missing_in_training": col.n_missing}
    if col.reason:
        out["reason"] = col.reason
    if col.categories:
        out["categories"] = col.categories[:CATEGORIES_SHOWN]
        out["n_categories"] = col.n_unique
    if col.minimum is not None and col.kind == "numeric":
        out["range"] = [col.minimum, col.maximum]
    return out


def _performance(experiment: Experiment) -> dict[str, Any]:
    """The stored held-out figures (the ones Results, Compare and the report show), and the CV score."""
    record = experiment.record
    best = record.best
    out = {"holdout": dict(record.holdout), "headline": record.metric, "interval": None,
           "cv_score": best.cv_score if best else None, "cv_std": best.cv_std if best else None}
    try:
        ev = evaluate_experiment(experiment)
    except Exception as err:  # noqa: BLE001 - the held-out file gone: the record's copy, and say so
        out["interval_note"] = f"no bootstrap interval ({type(err).__name__})"
        return out
    out.update(holdout=dict(ev.metrics), headline=ev.headline, interval=list(ev.interval) if ev.interval else None,
               holdout_rows=ev.n_rows, decision_threshold=ev.threshold)
    return out


def _top_features(experiment: Experiment, top: int = 10) -> list[dict[str, Any]] | None:
    """explain/importance.json (column -> share of mean |SHAP|), largest first; None if not computed yet."""
    data = experiment.read_json("explain/importance.json")
    if not data:
        return None
    if isinstance(data, dict) and "importance" in data and isinstance(data["importance"], dict):
        data = data["importance"]
    if isinstance(data, dict):
        items = [(str(k), float(v)) for k, v in data.items() if isinstance(v, (int, float))]
    else:
        items = [(str(d.get("feature")), float(d.get("share", d.get("importance", 0)))) for d in data]
    items.sort(key=lambda kv: -kv[1])
    return [{"feature": k, "share": v} for k, v in items[:top]]


def limitations(experiment: Experiment) -> list[str]:
    """Plain-language limits: left-out algorithms, dropped columns, imbalance, small data, fairness gaps."""
    record, schema = experiment.record, experiment.schema
    out = []
    for name, why in record.left_out.items():
        out.append(f"Algorithm {name} was not tried: {why}.")
    for col in schema.columns:
        if col.kind not in USABLE_KINDS:
            out.append(f"Column '{col.name}' is not used ({col.kind}: {col.reason or 'not a feature'}).")
    rows = record.rows.train or schema.n_rows
    if rows and rows < SMALL_DATA_ROWS:
        out.append(f"Small training table ({rows} rows): scores can move a lot on new data; "
                   "the interval above shows how much.")
    out += _imbalance(experiment)
    out += _fairness(experiment)
    try:
        from automl.deploy._onnx_export import onnx_support

        ok, why = onnx_support(experiment)
        if not ok:
            out.append(f"No ONNX file: {why}.")
    except Exception:  # noqa: BLE001 - the card must not fail on an optional export
        pass
    out.append("Categories not seen in training are treated as unknown; numbers far outside the training "
               "ranges get the prediction of the nearest range seen.")
    return out


def _imbalance(experiment: Experiment) -> list[str]:
    if experiment.task == "regression" or not experiment.file(TRAIN).exists():
        return []
    y = pd.read_parquet(experiment.file(TRAIN), columns=[experiment.target])[experiment.target]
    shares = y.astype(str).value_counts(normalize=True)
    rare = shares[shares < IMBALANCE_SHARE]
    return [f"Class imbalance: '{c}' is {s:.0%} of the training rows, so it is predicted less reliably."
            for c, s in rare.items()]


def _fairness(experiment: Experiment) -> list[str]:
    data = experiment.read_json("fairness.json")
    if not data:
        return []
    out = [f"Fairness: {w}" for col in data.get("columns", []) for w in col.get("warnings", [])]
    return out or ["Fairness: no group gap above the threshold on the held-out rows."]


def model_card_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown, for the bundle, the report and the dashboard."""
    m, perf = card["model"], card["performance"]
    title = m.get("description") or m.get("label") or m.get("algorithm")
    lines = [f"# Model card: {card['experiment'].get('name')} ({card['experiment']['id']})", "",
             f"- **Task:** {card['task']} - predicts `{card['target']}`"
             + (f" (classes: {', '.join(map(str, card['classes']))})" if card["classes"] else ""),
             f"- **Model:** {title}",
             f"- **Trained:** {card['training'].get('finished') or card['training'].get('created')}"
             f" ({card['training'].get('trials')} trials, {card['training'].get('cv_folds')}-fold CV)"]
    if m.get("decision_threshold") is not None:
        lines.append(f"- **Decision threshold:** P({card['positive_class']}) >= {m['decision_threshold']}")
    lines += ["", "## Intended use", "", card["intended_use"], "", "## Held-out performance", ""]
    interval = perf.get("interval")
    lines += ["| metric | value |", "|---|---|"]
    for name, value in (perf.get("holdout") or {}).items():
        text = format_metric(value)
        if name == perf.get("headline") and interval:
            text += f" (95% CI {format_interval(interval)})"
        lines.append(f"| {name} | {text} |")
    if perf.get("cv_score") is not None:
        lines += ["", f"Cross-validated {card['metric']}: {format_metric(perf['cv_score'])}"
                  + (f" ± {format_metric(perf['cv_std'])}" if perf.get("cv_std") is not None else "")]
    lines += ["", "## Input schema", "", "| column | type | used | allowed values |", "|---|---|---|---|"]
    for col in card["data"]["columns"]:
        if "range" in col:
            allowed = f"{col['range'][0]:g} to {col['range'][1]:g}"
        elif "categories" in col:
            shown = ", ".join(map(str, col["categories"][:12]))
            allowed = shown + (f" … ({col['n_categories']} in all)" if col["n_categories"] > 12 else "")
        else:
            allowed = col.get("reason", "")
        lines.append(f"| {col['name']} | {col['kind']} | {'yes' if col['used'] else 'no'} | "
                     f"{allowed.replace('|', '/')} |")
    lines += ["", "## Top features", ""]
    if card["top_features"]:
        lines += [f"{i}. {f['feature']} ({f['share']:.1%})" for i, f in enumerate(card["top_features"], 1)]
    else:
        lines.append("Not computed yet (open the Explain page to compute SHAP importances).")
    lines += ["", "## Known limits", ""] + [f"- {text}" for text in card["limitations"]]
    lines += ["", "## Library versions", ""] + [f"- {k} {v}" for k, v in card["versions"].items()]
    return "\n".join(lines) + "\n"
