"""Predict: a batch file or one row typed in a form; every prediction goes to the experiment's log."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import streamlit as st

from automl.data import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, proba_class, read_table
from automl.deploy import predict_experiment, to_safe_csv
from automl.errors import AutoMLError
from dashboard import explain_cache, state
from dashboard.components import experiment_header, plain, require_experiment, require_model, show_error

st.title("Predict")
exp = require_experiment()
experiment_header(exp)
require_model(exp, "Predictions")
version = state.meta_version(exp)
schema = exp.schema

batch_tab, form_tab = st.tabs(["Batch (a file)", "One row (a form)"])
with batch_tab:
    upload = st.file_uploader("Rows to predict (CSV, Parquet or Excel)", key=f"pred_upload_{exp.id}",
                              type=["csv", "tsv", "txt", "parquet", "pq", "xlsx", "xls"])
    if upload is not None:
        try:
            frame = read_table(upload.getvalue(), name=upload.name)
            result = predict_experiment(exp, frame, log=True, source="batch")
        except AutoMLError as err:
            show_error(err)
        else:
            st.success(f"{len(result.frame):,} rows predicted and logged."
                       + (f" {result.n_errors:,} rows had unreadable values (see the `errors` column); they were "
                          "predicted with those values treated as missing." if result.n_errors else ""))
            for warning in result.warnings:
                st.warning(plain(warning))
            st.dataframe(result.frame.head(200), hide_index=True, width="stretch")
            stem = upload.name.rsplit(".", 1)[0]
            c1, c2 = st.columns(2)
            c1.download_button("Download predictions (CSV)", to_safe_csv(result.frame).encode(),
                               file_name=f"{stem}-predictions.csv", mime="text/csv", icon=":material/download:")
            buffer = io.BytesIO()
            result.frame.to_parquet(buffer, index=False)
            c2.download_button("Download predictions (Parquet)", buffer.getvalue(),
                               file_name=f"{stem}-predictions.parquet", icon=":material/download:")

with form_tab:
    with st.form(f"pred_form_{exp.id}"):
        values: dict[str, object] = {}
        cols = st.columns(3)
        for i, col in enumerate(c for c in schema.columns if c.usable):
            box = cols[i % 3]
            if col.kind == NUMERIC:
                lo, hi = col.minimum, col.maximum
                values[col.name] = box.number_input(plain(col.name), value=None, placeholder="empty = missing",
                                                    help=f"training range {lo:g} – {hi:g}")
            elif col.kind in (CATEGORICAL, BOOLEAN):
                values[col.name] = box.selectbox(plain(col.name), col.categories, index=None,
                                                 placeholder="empty = missing", accept_new_options=True)
            elif col.kind == DATETIME:
                default = datetime.fromtimestamp(col.maximum).date() if col.maximum else None
                values[col.name] = box.date_input(plain(col.name), value=default)
        submitted = st.form_submit_button("Predict", type="primary", icon=":material/bolt:")
    if submitted:
        row = pd.DataFrame([values])
        try:
            result = predict_experiment(exp, row, log=True, source="form")
        except AutoMLError as err:
            show_error(err)
        else:
            out = result.outputs.iloc[0]
            st.metric("Prediction", str(out["prediction"]))
            probas = {proba_class(k): v for k, v in out.items() if proba_class(k) is not None}
            if probas:
                st.dataframe(pd.DataFrame([probas]), hide_index=True)
            try:
                local = explain_cache.explain_row(exp.id, version, row)
                st.plotly_chart(explain_cache.waterfall_figure(local), width="stretch", key="pred_waterfall")
            except AutoMLError as err:
                show_error(err)
