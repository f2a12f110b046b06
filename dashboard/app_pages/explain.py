"""Explain: SHAP in the original columns — global importance, beeswarm, one row's waterfall, dependence."""

from __future__ import annotations

import streamlit as st

from automl.errors import AutoMLError
from dashboard import explain_cache as cached
from dashboard import state
from dashboard.components import experiment_header, require_experiment, require_model, show_error

st.title("Explain")
exp = require_experiment()
record = experiment_header(exp)
require_model(exp, "Explanations")
version = state.meta_version(exp)

cls = None
if record.task == "multiclass":
    classes = [str(c) for c in record.classes]
    cls = st.selectbox("Explain the probability of class", classes, key=f"xp_cls_{exp.id}")
try:
    explanation = cached.explanation(exp.id, version, cls)
except AutoMLError as err:
    show_error(err)
    st.stop()

note = (f"SHAP values of {explanation.n_rows_used:,} training rows"
        + (f" (a seeded sample of {explanation.n_rows_total:,})" if explanation.n_rows_used < explanation.n_rows_total
           else "") + f", in {explanation.output}, summed over each original column's encoded parts. "
        + f"Explainer: {explanation.explainer}.")
st.caption(note)

tab_global, tab_row, tab_dep = st.tabs(["Global", "One row", "Dependence"])
with tab_global:
    left, right = st.columns(2)
    left.plotly_chart(cached.importance_figure(exp.id, version, cls), width="stretch", key="xp_importance")
    perm = cached.permutation(exp.id, version)
    right.plotly_chart(cached.permutation_figure(exp.id, version), width="stretch", key="xp_perm")
    right.caption(f"Permutation importance on {perm.n_rows_used:,} held-out rows: how much {perm.metric_label} "
                  "worsens when a column is shuffled — a model-agnostic cross-check of SHAP."
                  + (" The shipped model was refit on all rows, these included, so it has seen them: read the "
                     "ranking, not the sizes." if perm.seen_by_model else ""))
    st.plotly_chart(cached.beeswarm_figure(exp.id, version, cls), width="stretch", key="xp_beeswarm")

with tab_row:
    data = explanation.data
    how = st.radio("Pick a row", ["by index", "by filter"], horizontal=True, key="xp_how")
    if how == "by index":
        i = st.number_input(f"Row (0 – {len(data) - 1} of the explained sample)", 0, len(data) - 1, 0, key="xp_row")
        candidates = [int(i)]
    else:
        column = st.selectbox("Column", explanation.features, key="xp_fcol")
        values = sorted(data[column].dropna().astype(str).unique().tolist())[:500]
        value = st.selectbox("equals", values, key="xp_fval")
        candidates = data.index[data[column].astype(str) == value].tolist()
        st.caption(f"{len(candidates):,} matching rows")
        if not candidates:
            st.stop()
        candidates = [st.selectbox("Matching row", candidates, key="xp_frow")]
    local = cached.row_explanation(explanation, candidates[0])
    st.plotly_chart(cached.waterfall_figure(local), width="stretch", key="xp_waterfall")
    with st.expander("The row's raw values"):
        st.dataframe(data.iloc[[candidates[0]]], hide_index=True, width="stretch")

with tab_dep:
    feature = st.selectbox("Feature", cached.ranked_features(explanation), key="xp_dep")
    st.plotly_chart(cached.dependence_figure(exp.id, version, cls, feature), width="stretch", key="xp_dep_fig")
