"""One self-contained HTML report of an experiment: data, configuration, search, held-out results, SHAP, card.

plotly.js is embedded once in the page head, so the file opens offline and can
be mailed. The figures come from the same builders the dashboard uses
(``automl.plots.*``). Each section is built on its own: one whose data is
missing (no SHAP values yet, an old experiment) says so instead of failing
the whole report.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from automl.deploy._model_card import model_card
from automl.evaluation import Evaluation, evaluate_experiment, format_interval, format_metric
from automl.experiment import TRAIN, Experiment, ExperimentMeta, model_summary, shipped_rows_text

MAX_LEADERBOARD_ROWS = 15
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.25rem;margin:0 0 12px;border-bottom:1px solid #e5e7eb;padding-bottom:6px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:18px 20px;margin:18px 0}
table{border-collapse:collapse;font-size:.86rem;margin:8px 0;width:100%} th,td{border-bottom:1px solid #eef0f3;
padding:4px 8px;text-align:left;vertical-align:top} th{background:#f3f4f6} .muted{color:#6b7280;font-size:.9rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:12px} .grid>div{min-width:0}
.note{background:#fff7ed;
border-left:4px solid #f59e0b;padding:8px 12px;margin:8px 0} .kpi{font-size:1.4rem;font-weight:600}
"""

# Figures drawn before the grid settled keep their first width: size them to their cells once loaded.
RESIZE = ("window.addEventListener('load',function(){document.querySelectorAll('.js-plotly-plot')"
          ".forEach(function(d){Plotly.Plots.resize(d);});});")


class _Figures:
    """Turns Plotly figures into divs that share the one plotly.js in the page head."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig) -> str:
        self.count += 1
        return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig{self.count}",
                           config={"displaylogo": False, "responsive": True})


def build_report(experiment: Experiment, compute_shap: bool = True) -> str:
    """The report as one HTML string. ``compute_shap`` computes SHAP values (cached) if none are saved yet."""
    from plotly.offline import get_plotlyjs

    record = experiment.record
    fig = _Figures()
    if compute_shap:  # first, so the model card below lists the top features too
        _safe(lambda: _explanation(experiment, compute=True), None)
    card = _safe(lambda: model_card(experiment), None)
    sections = [
        ("Summary", lambda: _summary(experiment, card)),
        ("Data profile", lambda: _data_profile(experiment, fig)),
        ("Configuration", lambda: _configuration(record)),
        ("Leaderboard", lambda: _leaderboard(record, fig)),
        ("Held-out evaluation", lambda: _evaluation(experiment, card, fig)),
        ("Explanations (SHAP)", lambda: _shap(experiment, fig, compute_shap)),
        ("Model card", lambda: _card(card)),
    ]
    body = "".join(_section(title, build) for title, build in sections)
    title = html.escape(f"AutoML report: {record.display_name or experiment.id}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{CSS}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body><main>"
            f"<h1>{title}</h1><p class='muted'>Experiment {html.escape(experiment.id)} · generated from its "
            f"folder · {html.escape(str(record.finished or record.created or ''))}</p>{body}"
            f"</main><script>{RESIZE}</script></body></html>")


def _section(title: str, build: Callable[[], str]) -> str:
    try:
        content = build()
    except Exception as err:  # noqa: BLE001 - one section's missing data must not sink the report
        content = _note(f"This section could not be built: {type(err).__name__}: {err}")
    slug = title.lower().split(" ")[0]
    return f"<section id='{slug}'><h2>{html.escape(title)}</h2>{content}</section>"


def _safe(build: Callable[[], Any], default: Any) -> Any:
    try:
        return build()
    except Exception:  # noqa: BLE001
        return default


def _note(text: str) -> str:
    return f"<div class='note'>{html.escape(text)}</div>"


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, na_rep="", float_format=lambda v: f"{v:.4g}", escape=True)


def _summary(experiment: Experiment, card: dict | None) -> str:
    record = experiment.record
    label, held = model_summary(record).label, _held_out(experiment)
    metric = held.headline if held else record.metric
    value = held.metrics.get(held.headline) if held else record.headline_score
    ci = f" <span class='muted'>(95% CI {format_interval(held.interval)})</span>" if held and held.interval else ""
    rows = record.rows
    return (f"<p>Predicts <b>{html.escape(str(record.target))}</b> ({html.escape(str(record.task))}) "
            f"with <b>{html.escape(str(label))}</b>; status {html.escape(str(record.status))}.</p>"
            f"<p>Held-out {html.escape(str(metric))}: <span class='kpi'>{format_metric(value)}</span>{ci}</p>"
            f"<p class='muted'>{_or_unknown(rows.train)} training rows, {_or_unknown(rows.holdout)} held-out rows "
            f"never seen by the search. {html.escape(shipped_rows_text(record) or '')}</p>")


def _held_out(experiment: Experiment) -> Evaluation | None:
    """The stored held-out figures (what Results, Compare and the model card show); None if the rows are gone."""
    return _safe(lambda: evaluate_experiment(experiment), None)


def _or_unknown(value: Any) -> Any:
    return "?" if value is None else value


def _data_profile(experiment: Experiment, fig: _Figures) -> str:
    schema = experiment.schema
    rows = []
    for c in schema.columns:
        if c.kind == "numeric" and c.minimum is not None:
            values = f"{c.minimum:g} to {c.maximum:g}"
        elif c.categories:
            values = ", ".join(c.categories[:8]) + (" …" if c.n_unique > 8 else "")
        else:
            values = ""
        rows.append({"column": c.name, "kind": c.kind, "dtype": c.dtype, "missing": c.n_missing,
                     "distinct": c.n_unique, "values": values, "used": "yes" if c.usable else f"no: {c.reason}"})
    out = f"<p>{schema.n_rows} rows, {len(schema.columns)} columns, {len(schema.features)} used.</p>"
    out += _table(pd.DataFrame(rows))
    try:
        from automl.plots.data import target_distribution

        y = pd.read_parquet(experiment.file(TRAIN), columns=[experiment.target])[experiment.target]
        out += fig(target_distribution(y.rename(f"{experiment.target} (training rows)"), experiment.task))
    except (ImportError, OSError) as err:
        out += _note(f"No target distribution: {err}")
    return out


def _configuration(record: ExperimentMeta) -> str:
    config, timing = record.config.to_dict(), record.timing.to_dict()
    settings = {**config, **{f"timing.{k}": v for k, v in timing.items()}}
    rows = [{"setting": k, "value": "—" if v is None else json.dumps(v, default=str) if isinstance(v, (list, dict))
             else v} for k, v in settings.items()]
    extra = "".join(_note(f"Algorithm {k} left out: {v}") for k, v in record.left_out.items())
    return _table(pd.DataFrame(rows).astype(str)) + extra


def _leaderboard(record: ExperimentMeta, fig: _Figures) -> str:
    board = record.leaderboard_records()
    if not board:
        return _note("No leaderboard stored for this experiment.")
    frame = pd.DataFrame(board)
    cols = [c for c in ("rank", "trial", "label", "score", "cv_std", "fit_time_s", "params") if c in frame.columns]
    out = _table(frame[cols].head(MAX_LEADERBOARD_ROWS))
    out += f"<p>Final model: {html.escape(model_summary(record).text())}.</p>"
    try:  # hook: the search figures (automl/plots/search.py)
        from automl.plots.search import history_figure

        out += fig(history_figure(board, record.metric_greater_is_better, f"CV {record.metric}"))
    except ImportError:
        out += _note("Search history figure unavailable (automl.plots.search missing).")
    return out


def _evaluation(experiment: Experiment, card: dict | None, fig: _Figures) -> str:
    held = _held_out(experiment)
    if held is not None:
        out = _table(pd.DataFrame([{"metric": held.label(k), "value": format_metric(v),
                                    "95% interval": format_interval(held.interval) if k == held.headline else ""}
                                   for k, v in held.metrics.items()]))
    elif experiment.record.holdout:  # the held-out rows are gone: the copy kept in experiment.json
        out = _table(pd.DataFrame([{"metric": k, "value": format_metric(v)}
                                   for k, v in experiment.record.holdout.items()]))
    else:
        out = _note("No held-out metrics stored.")
    try:  # hook: the evaluation figures (automl/plots/evaluation.py)
        from automl.plots.evaluation import evaluation_figures

        figures = evaluation_figures(experiment)
    except ImportError:
        return out + _note("Evaluation figures unavailable (automl.plots.evaluation missing).")
    except Exception as err:  # noqa: BLE001 - e.g. the held-out rows are gone: keep the stored metrics
        return out + _note(f"The evaluation figures could not be built: {type(err).__name__}: {err}")
    return out + "<div class='grid'>" + "".join(f"<div>{fig(f)}</div>" for f in figures.values()) + "</div>"


def _shap(experiment: Experiment, fig: _Figures, compute: bool) -> str:
    try:  # hook: SHAP values (automl.explain) and their figures (automl/plots/explain.py)
        from automl.plots.explain import beeswarm_figure, importance_figure
    except ImportError:
        return _note("SHAP explanations unavailable (automl.explain missing).")
    explanation = _explanation(experiment, compute)
    if explanation is None:
        return _note("No SHAP values computed yet: open the Explain page, or build the report with SHAP on.")
    return (f"<p class='muted'>{explanation.n_rows_used:,} of {explanation.n_rows_total:,} training rows explained "
            f"({html.escape(explanation.explainer)}, output: {html.escape(explanation.output)}).</p>"
            f"<div class='grid'><div>{fig(importance_figure(explanation))}</div>"
            f"<div>{fig(beeswarm_figure(explanation))}</div></div>")


def _explanation(experiment: Experiment, compute: bool):
    """The Explain page's SHAP values of the current model: read from the experiment folder, or (if asked)
    computed with the page's settings and stored there, so the page then reads them too."""
    from automl.explain import explain_experiment, load_explanation

    explanation = load_explanation(experiment)
    if explanation is None and compute:
        explanation = explain_experiment(experiment)
    return explanation


def _card(card: dict | None) -> str:
    if card is None:
        return _note("The model card could not be built for this experiment.")
    out = f"<h3>Intended use</h3><p>{html.escape(card['intended_use'])}</p><h3>Known limits</h3><ul>"
    out += "".join(f"<li>{html.escape(t)}</li>" for t in card["limitations"]) + "</ul>"
    if card.get("top_features"):
        out += "<h3>Top features</h3>" + _table(pd.DataFrame(card["top_features"]))
    versions = card.get("versions") or {}
    out += "<h3>Library versions</h3><p class='muted'>" + html.escape(
        ", ".join(f"{k} {v}" for k, v in versions.items()) or "not recorded") + "</p>"
    return out
