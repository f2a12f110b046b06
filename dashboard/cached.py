"""Slow, pure calls into automl/, cached per experiment version.

Keys are (experiment id, version of experiment.json), so a re-trained or
renamed experiment is recomputed and nothing else is.
"""

from __future__ import annotations

from typing import Any

import optuna
import pandas as pd
import streamlit as st

from automl.errors import AutoMLError
from automl.evaluation import evaluate_experiment, experiment_evaluation_data, experiment_fairness
from automl.evaluation import save_threshold as _save_threshold
from automl.evaluation import sensitive_candidates as _candidates
from automl.plots.evaluation import evaluation_figures
from automl.plots.evaluation import threshold_figure as _threshold_figure
from automl.plots.fairness import fairness_figures as _fairness_figures
from automl.plots.search import search_figures
from automl.search import load_trials
from dashboard import state


def _exp(exp_id: str):
    return state.workspace().get(exp_id)


@st.cache_data(max_entries=32, show_spinner="Scoring the held-out rows…")
def evaluation(exp_id: str, version: float):
    return evaluate_experiment(_exp(exp_id))


@st.cache_data(max_entries=32, show_spinner="Drawing the evaluation plots…")
def eval_figures(exp_id: str, version: float) -> dict[str, Any]:
    return evaluation_figures(experiment_evaluation_data(_exp(exp_id)))


@st.cache_data(max_entries=32, show_spinner="Reading the study…")
def study_figures(exp_id: str, version: float) -> tuple[dict[str, Any], dict[str, str]]:
    exp = _exp(exp_id)
    study = optuna.load_study(study_name=exp.id, storage=exp.storage_url)
    record = exp.record
    return search_figures(study, record.metric_greater_is_better, f"CV {record.metric}")


@st.cache_data(max_entries=32)
def trials(exp_id: str, version: float) -> pd.DataFrame:
    exp = _exp(exp_id)
    return load_trials(exp.storage_url, exp.id)


@st.cache_data(max_entries=8, show_spinner=False)
def model_bytes(exp_id: str, version: float) -> bytes:
    from automl.deploy import export_joblib

    return export_joblib(_exp(exp_id)).read_bytes()  # pickled here from the safely loaded model


@st.cache_data(max_entries=32, show_spinner=False)
def threshold_figure(exp_id: str, version: float, threshold: float):
    data = experiment_evaluation_data(_exp(exp_id))
    return _threshold_figure(data.thresholds, threshold)


def save_threshold(exp, threshold: float | None, by: str | None = None) -> None:
    _save_threshold(exp, threshold, by=by)  # rewrites experiment.json: every cache keyed by its version refreshes


@st.cache_data(max_entries=32, show_spinner=False)
def sensitive_candidates(exp_id: str, version: float) -> list[str]:
    exp = _exp(exp_id)
    hold = exp.holdout()
    features = [c for c in exp.schema.names if c in hold.columns]
    return _candidates(hold[features])


@st.cache_data(max_entries=32, show_spinner="Computing per-group metrics…")
def fairness(exp_id: str, version: float, sensitive: tuple[str, ...]):
    return experiment_fairness(_exp(exp_id), list(sensitive))


def fairness_figures(report) -> dict[str, Any]:
    return _fairness_figures(report)


@st.cache_data(max_entries=8, show_spinner="Exporting the model files…")
def export_files(exp_id: str, version: float) -> dict[str, tuple[bytes | None, str | None]]:
    """Each file, or why it couldn't be made: one failure (say ONNX parity) never hides the others."""
    from automl.deploy import bundle, export_onnx, export_skops, onnx_support

    exp = _exp(exp_id)

    def onnx() -> bytes:
        ok, reason = onnx_support(exp)
        if not ok:
            raise AutoMLError(f"No ONNX file: {reason}.", "The skops file predicts on raw rows too.")
        return export_onnx(exp).read_bytes()

    files: dict[str, tuple[bytes | None, str | None]] = {}
    makers = {"skops": lambda: export_skops(exp).read_bytes(), "onnx": onnx, "bundle": lambda: bundle(exp)}
    for fmt, make in makers.items():
        try:
            files[fmt] = (make(), None)
        except AutoMLError as err:
            files[fmt] = (None, err.problem)
    return files


@st.cache_data(max_entries=8, show_spinner="Building the report…")
def report_html(exp_id: str, version: float) -> bytes:
    from automl.deploy import build_report

    return build_report(_exp(exp_id)).encode()


@st.cache_data(max_entries=32, show_spinner=False)
def target_decimals(exp_id: str, version: float) -> int:
    """How many decimals the training target uses, so a predicted price reads 6,769 and not 6768.903345."""
    from automl.deploy import decimals_like

    exp = _exp(exp_id)
    return decimals_like(exp.train_frame()[exp.target])
