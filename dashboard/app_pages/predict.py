"""Predict: a batch file or one row typed in a form; every prediction goes to the experiment's log."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

import pandas as pd
import streamlit as st

from automl.data import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, REGRESSION, proba_class, read_table
from automl.deploy import form_warnings, format_number, predict_experiment, to_safe_csv
from automl.errors import AutoMLError
from dashboard import cached, explain_cache, signin, state
from dashboard.components import experiment_header, plain, require_experiment, require_model, require_right, show_error

st.title("Predict")
exp = require_experiment()
experiment_header(exp)
require_model(exp, "Predictions")
require_right(exp, "download", "Predicting with this model")
version = state.meta_version(exp)
schema = exp.schema
owns_log = signin.rights(exp).manage  # the prediction log is the owner's: a viewer's rows are never added to it

batch_tab, form_tab = st.tabs(["Batch (a file)", "One row (a form)"])
with batch_tab:
    upload = st.file_uploader("Rows to predict (CSV, Parquet or Excel)", key=f"pred_upload_{exp.id}",
                              type=["csv", "tsv", "txt", "parquet", "pq", "xlsx", "xls"])
    log_batch = owns_log and st.toggle("Add these rows to the prediction log (Monitor compares it with the "
                                       "training data)", value=True, key=f"pred_log_{exp.id}")
    if upload is not None:
        data = upload.getvalue()
        # One upload is predicted (and logged) once: a download click or a tab switch reruns the page.
        key = (hashlib.sha256(data).hexdigest(), version, log_batch)
        done = st.session_state.get(f"pred_batch_{exp.id}")
        try:
            if done is None or done[0] != key:
                frame = read_table(data, name=upload.name)
                st.session_state[f"pred_batch_{exp.id}"] = done = (
                    key, predict_experiment(exp, frame, log=log_batch, source="batch"))
        except AutoMLError as err:
            show_error(err)
        else:
            result = done[1]
            logged = (f"{len(result.inputs):,} rows added to the prediction log." if log_batch else
                      "Not logged (the switch above is off)." if owns_log else "Not logged (the log is the owner's).")
            st.success(f"{len(result.frame):,} rows predicted. {logged}"
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
                                                    help=f"training range {format_number(lo)} – {format_number(hi)}")
            elif col.kind in (CATEGORICAL, BOOLEAN):
                values[col.name] = box.selectbox(plain(col.name), col.categories, index=None,
                                                 placeholder="empty = missing", accept_new_options=True)
            elif col.kind == DATETIME:
                default = datetime.fromtimestamp(col.maximum).date() if col.maximum else None
                values[col.name] = box.date_input(plain(col.name), value=default)
        submitted = st.form_submit_button("Predict", type="primary", icon=":material/bolt:")
    if submitted:
        row = pd.DataFrame([values])
        for warning in form_warnings(schema, values):
            st.warning(plain(warning), icon=":material/warning:")
        try:
            result = predict_experiment(exp, row, log=owns_log, source="form")
        except AutoMLError as err:
            show_error(err)
        else:
            out = result.outputs.iloc[0]
            shown = (format_number(float(out["prediction"]), cached.target_decimals(exp.id, version))
                     if exp.task == REGRESSION else str(out["prediction"]))
            st.metric("Prediction", shown)
            probas = {str(proba_class(k)): f"{v:.1%}" for k, v in out.items() if proba_class(k) is not None}
            if probas:
                st.dataframe(pd.DataFrame([probas]), hide_index=True)
            try:
                local = explain_cache.explain_row(exp.id, version, row)
                st.plotly_chart(explain_cache.waterfall_figure(local), width="stretch", key="pred_waterfall")
            except AutoMLError as err:
                show_error(err)
