"""Results: leaderboard, held-out metrics, evaluation plots, the search's own plots, downloads."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from automl.errors import AutoMLError
from automl.evaluation import format_interval, format_metric
from automl.experiment import COMPLETED, FINISHED, model_summary, read_changes, shipped_rows_text
from dashboard import cached, signin, state
from dashboard.components import experiment_header, plain, require_experiment, show_error, table_download
from dashboard.lifecycle import resume_control
from dashboard.navigation import TRAIN

st.title("Results")
exp = require_experiment()
record = experiment_header(exp)
rights = signin.rights(exp)
status = exp.status
if status not in FINISHED:
    st.info("This experiment is still searching.")
    st.page_link(TRAIN, label="Follow it live", icon=":material/autorenew:",
                 query_params={state.EXPERIMENT_PARAM: exp.id})
    st.stop()
if status == "failed" or not exp.has_model:
    st.error(f"This experiment has no model: {plain(exp.no_model_reason())}.")
    resume_control(exp, "results")
    st.stop()
if status != COMPLETED:
    st.warning("The search was cancelled; these are the results of the best model found until then.")
    resume_control(exp, "results")

version = state.meta_version(exp)
try:
    evaluation = cached.evaluation(exp.id, version)
except AutoMLError as err:
    show_error(err)
    st.stop()

summary = model_summary(record)
for note in record.notes:
    st.info(plain(note), icon=":material/info:")
st.subheader("Held-out metrics")
held_out = "?" if record.rows.holdout is None else f"{record.rows.holdout:,}"
st.caption(f"{held_out} rows the search never saw · model: {summary.short} · "
           f"{record.timing.trials or 0} trials in {record.timing.elapsed_s or 0:.0f}s")
if shipped_rows_text(record):
    st.caption(shipped_rows_text(record))
headline = evaluation.headline
cols = st.columns(min(len(evaluation.metrics), 6))
interval = format_interval(evaluation.interval)  # the stored figures, written as every other view writes them
for i, (name, value) in enumerate(evaluation.metrics.items()):
    help_text = f"95% bootstrap interval {interval}" if name == headline and interval else None
    cols[i % len(cols)].metric(evaluation.label(name), format_metric(value), help=help_text)
if interval:
    st.caption(f"{evaluation.label(headline)}: {format_metric(evaluation.metrics[headline])} "
               f"(95% bootstrap interval {interval}); a difference smaller than this range may be noise.")
if evaluation.per_class is not None:
    with st.expander("Per-class metrics"):
        st.dataframe(evaluation.per_class, hide_index=True, width="stretch")

st.subheader("Leaderboard")
board = pd.DataFrame(record.leaderboard_records())
if len(board):
    board["params"] = board["params"].map(lambda p: p if isinstance(p, str) else json.dumps(p))
    st.dataframe(board[["rank", "trial", "label", "score", "cv_std", "fit_time_s", "params", "note"]],
                 hide_index=True, width="stretch",
                 column_config={"score": st.column_config.NumberColumn(f"CV {record.metric}", format="%.4f"),
                                "cv_std": st.column_config.NumberColumn("± std", format="%.4f"),
                                "fit_time_s": st.column_config.NumberColumn("fit time (s)", format="%.2f")})
    table_download(board, "Leaderboard (CSV)", f"{exp.id}-leaderboard.csv", key="dl_board")
if summary.is_ensemble:
    st.info(f"The final model is {summary.text()}.")
else:
    st.caption(f"The final model is {summary.text()}.")
for name, why in record.left_out.items():
    st.caption(f"Not searched: {plain(name)}: {plain(why)}")

st.subheader("Evaluation")
figures = cached.eval_figures(exp.id, version)
names = list(figures)
for start in range(0, len(names), 2):
    cols = st.columns(2)
    for col, name in zip(cols, names[start:start + 2]):
        col.plotly_chart(figures[name], width="stretch", key=f"eval_{name}")

if record.task == "binary":
    with st.expander("Decision threshold", icon=":material/tune:"):
        saved = record.threshold
        chosen = st.slider(f"Predict '{plain(record.positive_class)}' when its probability is at least", 0.01, 0.99,
                           float(saved if saved is not None else 0.5), 0.01, key=f"thr_{exp.id}")
        st.plotly_chart(cached.threshold_figure(exp.id, version, chosen), width="stretch", key="thr_fig")
        c1, c2 = st.columns(2)
        if not rights.manage:
            st.caption("Only the owner or an admin can save a threshold into the model.")
        for pressed, value in ((rights.manage and c1.button("Save this threshold into the model",
                                                            icon=":material/save:"), chosen),
                               (rights.manage and saved is not None and c2.button(
                                   "Back to the default rule (0.5 / most likely class)"), None)):
            if pressed:
                try:  # a full disk or a read-only workspace: one message, the model file unchanged
                    cached.save_threshold(exp, value, by=state.actor())
                    st.rerun()
                except AutoMLError as err:
                    show_error(err)
        if saved is not None:
            st.caption(f"The model files predict with the saved threshold {saved:.2f}; metrics above use it.")

with st.expander("Fairness across groups", icon=":material/balance:"):
    candidates = cached.sensitive_candidates(exp.id, version)
    sensitive = st.multiselect("Sensitive columns (e.g. sex, race, age)", candidates, key=f"fair_{exp.id}")
    if sensitive:
        try:
            report = cached.fairness(exp.id, version, tuple(sensitive))
        except AutoMLError as err:
            show_error(err)
        else:
            for note in report.notes:
                st.caption(plain(note))
            for group, fig in zip(report.columns, cached.fairness_figures(report).values()):
                for warning in group.warnings:
                    st.warning(plain(warning), icon=":material/warning:")
                st.dataframe(group.table, hide_index=True, width="stretch")
                st.plotly_chart(fig, width="stretch", key=f"fair_fig_{group.column}")

st.subheader("Search")
search_figs, notes = cached.study_figures(exp.id, version)
st.plotly_chart(search_figs["history"], width="stretch", key="search_history")
if "importance" in search_figs:
    st.plotly_chart(search_figs["importance"], width="stretch", key="search_importance")
for note in notes.values():
    st.caption(note)
slices = [k for k in search_figs if k.startswith("slice:")]
if slices:
    tabs = st.tabs([k.split(":", 1)[1] for k in slices])
    for tab, key in zip(tabs, slices):
        tab.plotly_chart(search_figs[key], width="stretch", key=f"search_{key}")

st.subheader("Download")
c1, c2, c3 = st.columns(3)
if not rights.download:
    c1.caption("The model files are for the owner, the admins and those the owner allows to download them.")
else:
    c1.download_button("Model (joblib, trusted use)", cached.model_bytes(exp.id, version),
                       file_name=f"{exp.id}-model.joblib", mime="application/octet-stream",
                       icon=":material/download:",
                       help="The whole pipeline: it predicts on raw rows. joblib runs code when loaded: "
                            "load only files you trust.")
if rights.download and c2.button("Prepare the safe and ONNX files", icon=":material/inventory_2:",
                                 help="skops (loads without running code), ONNX where the model converts, and the "
                                      "model card."):
    st.session_state[f"bundle_{exp.id}"] = True
if rights.download and st.session_state.get(f"bundle_{exp.id}"):
    files = cached.export_files(exp.id, version)
    for fmt, label, suffix in (("skops", "Model (skops, safe to load)", "model.skops"),
                               ("onnx", "Model (ONNX)", "model.onnx"),
                               ("bundle", "Bundle (models + model card, zip)", "bundle.zip")):
        data, problem = files[fmt]
        if data is None:
            c2.caption(plain(problem))  # in its place: the other files are still offered
        else:
            c2.download_button(label, data, file_name=f"{exp.id}-{suffix}", icon=":material/download:",
                               key=f"dl_{fmt}")
if c3.button("Build the HTML report", icon=":material/description:",
             help="One self-contained file that opens without network: share it by email."):
    st.session_state[f"report_{exp.id}"] = True
if st.session_state.get(f"report_{exp.id}"):
    c3.download_button("Report (HTML)", cached.report_html(exp.id, version), file_name=f"{exp.id}-report.html",
                       mime="text/html", icon=":material/download:")

changes = read_changes(exp.path)
with st.expander(f"Who changed what ({len(changes)})", icon=":material/history:"):
    if changes:
        st.dataframe(pd.DataFrame([vars(c) for c in reversed(changes)]), hide_index=True, width="stretch")
    else:
        st.caption("No change recorded yet (experiments made before the audit trail have none).")
