"""Cached SHAP calls for the Explain and Predict pages (keyed by experiment id and version)."""

from __future__ import annotations

import streamlit as st

from automl.explain import _explain as xp
from automl.explain import _views as views
from automl.plots import explain as plots
from dashboard import state


def _exp(exp_id: str):
    return state.workspace().get(exp_id)


def explanation(exp_id: str, version: float, cls: str | None):
    """The SHAP values, computed (with a progress bar, member by member) only when the experiment folder has
    none for the current model; the report reads and writes the same files."""
    exp = _exp(exp_id)
    if not xp.explanation_ready(exp, cls):
        with st.status("Computing SHAP values (stored in the experiment folder)…", expanded=True) as status:
            bar = st.progress(0.0, text="Preparing the explainers…")
            result = xp.explain_experiment(exp, cls=cls, progress=lambda f, text: bar.progress(f, text=text))
            status.update(label=f"SHAP values of {result.n_rows_used:,} rows ready", state="complete",
                          expanded=False)
    return _loaded(exp_id, version, cls)


@st.cache_data(max_entries=16, show_spinner=False)
def _loaded(exp_id: str, version: float, cls: str | None):
    return xp.explain_experiment(_exp(exp_id), cls=cls)  # the file is there by now: a read


@st.cache_data(max_entries=16, show_spinner="Permutation importance on the held-out rows…")
def permutation(exp_id: str, version: float):
    return views.permutation_importance(_exp(exp_id))


@st.cache_data(max_entries=16, show_spinner=False)
def importance_figure(exp_id: str, version: float, cls: str | None):
    return plots.importance_figure(_loaded(exp_id, version, cls))


@st.cache_data(max_entries=16, show_spinner=False)
def beeswarm_figure(exp_id: str, version: float, cls: str | None):
    return plots.beeswarm_figure(_loaded(exp_id, version, cls))


@st.cache_data(max_entries=16, show_spinner=False)
def permutation_figure(exp_id: str, version: float):
    return plots.permutation_figure(permutation(exp_id, version))


@st.cache_data(max_entries=64, show_spinner=False)
def dependence_figure(exp_id: str, version: float, cls: str | None, feature: str):
    return plots.dependence_figure(views.dependence_data(_loaded(exp_id, version, cls), feature))


def row_explanation(explanation_, i: int):
    return xp.row_explanation(explanation_, i)


def waterfall_figure(local):
    return plots.waterfall_figure(local)


def ranked_features(explanation_) -> list[str]:
    return xp.global_importance(explanation_).iloc[:, 0].tolist()


@st.cache_resource(max_entries=8, show_spinner="Preparing the explainer…")
def explainer(exp_id: str, version: float, cls: str | None):
    return xp.make_explainer(_exp(exp_id), cls)


def explain_row(exp_id: str, version: float, row, cls: str | None = None):
    return xp.explain_row(_exp(exp_id), row, cls, explainer=explainer(exp_id, version, cls))
