"""Monitor: live rows (an upload or the prediction log) against the training reference; retrain."""

from __future__ import annotations

import streamlit as st

from automl.data import read_table
from automl.deploy import _prediction_log as prediction_log
from automl.errors import AutoMLError
from automl.experiment import FINISHED
from automl.explain import IMPORTANCE
from automl.monitor import DriftSettings, champion_vs_challenger, monitor_experiment, promote
from automl.plots.monitor import (
    drift_over_time_figure,
    drift_summary_figure,
    feature_distribution_figure,
    prediction_distribution_figure,
)
from automl.runner import start_retrain
from dashboard import signin, state
from dashboard.components import (
    experiment_header,
    plain,
    require_experiment,
    require_model,
    require_right,
    show_error,
    table_download,
)

st.title("Monitor")
exp = require_experiment()
record = experiment_header(exp)
require_model(exp, "Monitoring")
require_right(exp, "manage", "Monitoring (the prediction log, drift and retraining)")

source = st.radio("Live data", ["Upload a table", "Prediction log"], horizontal=True, key="mon_source")
live = None
if source == "Upload a table":
    upload = st.file_uploader("Live rows (with the target column too, if the outcomes are known)",
                              type=["csv", "tsv", "txt", "parquet", "pq", "xlsx", "xls"], key=f"mon_up_{exp.id}")
    if upload is not None:
        try:
            live = read_table(upload.getvalue(), name=upload.name)
        except AutoMLError as err:
            show_error(err)
else:
    n = prediction_log.count(exp)
    st.caption(f"{n:,} predictions logged for this experiment.")
    if n:
        days = st.slider("Time window (days back)", 1, 365, 30, key="mon_days")
        import pandas as pd

        live = prediction_log.read(exp, since=pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=days))
        if live.empty:
            st.info("No prediction in that window.")
            live = None

with st.expander("Thresholds"):
    c1, c2, c3 = st.columns(3)
    p_value = c1.number_input("p-value below", 0.001, 0.5, 0.05, 0.01, key="mon_p")
    distance = c2.number_input("distance at least", 0.01, 1.0, 0.1, 0.01, key="mon_d")
    share = c3.number_input("dataset drift: share of features", 0.05, 1.0, 0.5, 0.05, key="mon_s")
    stamp_choices = ["(none)"] + ([c for c in live.columns] if live is not None else [])
    stamp = st.selectbox("Timestamp column (drift over time)", stamp_choices,
                         index=stamp_choices.index("timestamp") if "timestamp" in stamp_choices else 0)
if live is None:
    st.stop()

try:
    report = monitor_experiment(exp, live, settings=DriftSettings(p_value=p_value, distance=distance,
                                                                   dataset_share=share),
                                timestamp_column=None if stamp == "(none)" else stamp,
                                importances=exp.read_json(IMPORTANCE))  # SHAP shares, if explained
except AutoMLError as err:
    show_error(err)
    st.stop()

(st.error if report.drift_detected else st.success)(plain(report.headline))
for note in report.notes:
    st.caption(plain(note))
table = report.table()
c1, c2 = st.columns(2)
c1.metric("Features drifted", f"{int(table['drifted'].sum())} / {len(table)}" if "drifted" in table else "—")
if report.importance:
    c2.metric("Importance carried by drifted features", f"{report.importance['drifted_share']:.0%}")
st.plotly_chart(drift_summary_figure(report), width="stretch", key="mon_summary")
st.caption("Each row says which test decided and why its PSI band may disagree: PSI measures the size of a "
           "shift, a p-value test its significance.")
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"reason": st.column_config.TextColumn("reason", width="large")})
table_download(table, "Drift table (CSV)", f"{exp.id}-drift.csv", key="dl_drift")
feature = st.selectbox("Feature", table["column"].tolist(), key="mon_feature")
st.plotly_chart(feature_distribution_figure(report, feature), width="stretch", key="mon_feature_fig")
reason = table.set_index("column")["reason"].get(feature) if "reason" in table else None
if reason:
    st.caption(plain(f"{feature}: {reason}."))
if report.prediction:
    st.plotly_chart(prediction_distribution_figure(report), width="stretch", key="mon_pred_fig")
st.subheader("Performance")
st.caption(plain(report.performance_caption()))
performance = report.performance_table()
if performance is not None:
    st.dataframe(performance, hide_index=True, width="stretch")
if report.over_time:
    st.plotly_chart(drift_over_time_figure(report), width="stretch", key="mon_time_fig")

st.subheader("Retrain")
challenger_id = st.session_state.get(f"challenger_{exp.id}")
if challenger_id is None:
    if record.target in live.columns and st.button("Retrain on training + labelled live rows", type="primary",
                                                    icon=":material/autorenew:"):
        try:
            challenger = start_retrain(exp, live, workspace=state.workspace().root, by=state.actor())
        except AutoMLError as err:
            show_error(err)
        else:
            st.session_state[f"challenger_{exp.id}"] = challenger.id
            st.rerun()
    elif record.target not in live.columns:
        st.caption(f"Retraining needs live rows with their outcome in '{plain(record.target)}'.")
else:
    challenger = state.workspace().get(challenger_id, signin.viewer())

    @st.fragment(run_every=2)
    def follow() -> None:
        status = challenger.status
        if status not in FINISHED:
            progress = challenger.progress
            st.info(f"Challenger {challenger.id} is {status}: {progress.get('complete', 0)} trials so far.")
            return
        st.dataframe(champion_vs_challenger(exp, challenger), hide_index=True, width="stretch")
        if status == "completed" and st.button("Promote the challenger", icon=":material/military_tech:"):
            try:
                promote(exp, challenger, by=state.actor())
            except AutoMLError as err:
                show_error(err)
                return
            state.set_experiment(challenger.id)
            st.rerun(scope="app")

    follow()
