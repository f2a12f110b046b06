"""Data: pick a table (upload or sample), see every column's profile, choose the target."""

from __future__ import annotations

import streamlit as st

from automl.data import TASKS, detect_task, guess_target, max_file_bytes
from automl.data.samples import SAMPLES
from automl.errors import AutoMLError
from automl.plots.data import column_distribution
from dashboard import state
from dashboard.components import plain, show_error
from dashboard.navigation import TRAIN

MAX_NOTES = 30  # a 5,000-column table can have thousands of notes: the table below lists them all

st.title("Data")
st.caption("Upload a table or start from a bundled sample, then pick the column to predict.")

current = state.table()
source = st.radio("Source", ["Bundled sample", "Upload a file"], horizontal=True, key="data_source",
                  index=1 if current and not any(s.file == current.name for s in SAMPLES) else 0)
picked: state.Table | None = None
if source == "Upload a file":
    upload = st.file_uploader("CSV, Parquet or Excel", type=["csv", "tsv", "txt", "parquet", "pq", "xlsx", "xls"],
                              key="data_upload",
                              help=f"This machine can hold a CSV of up to about {max_file_bytes() / 1e9:.1f} GB.")
    if upload is not None:
        picked = state.Table(upload.getvalue(), upload.name)
else:
    names = [s.name for s in SAMPLES]
    choice = st.selectbox("Sample", names, key="data_sample",
                          format_func=lambda n: f"{n} — {next(s for s in SAMPLES if s.name == n).description}")
    sample = next(s for s in SAMPLES if s.name == choice)
    picked = state.Table(sample.path.read_bytes(), sample.file, target=sample.target)

if picked is not None:
    try:
        frame = state.read_cached(picked.digest, picked.data, picked.name)
    except AutoMLError as err:
        show_error(err)  # the previous table (if any) stays chosen, but isn't shown as if it were this file
        if current is not None:
            st.caption(f"Training still uses the table chosen before, **{plain(current.name)}**, until a file "
                       "reads. Fix the file, or switch back to a sample.")
        st.stop()
    else:
        if current is None or current.digest != picked.digest:
            state.set_table(picked)
            current = picked

if current is None:
    st.info("Choose a sample or upload a file to begin.")
    st.stop()

if picked is None or current.digest != picked.digest:  # otherwise `frame` is the current table already
    frame = state.read_cached(current.digest, current.data, current.name)
st.markdown(f"**{plain(current.name)}** · {len(frame):,} rows × {frame.shape[1]:,} columns")

columns = list(frame.columns)
guess = guess_target(frame)
default_target = current.target if current.target in columns else guess.column
left, right = st.columns(2)
target = left.selectbox("Target (the column to predict)", columns, index=columns.index(default_target),
                        key=f"data_target_{current.digest}")
if target == guess.column and not any(s.file == current.name and s.target == target for s in SAMPLES):
    left.caption(f"Guessed, because {plain(guess.reason)}. Pick another column if it isn't the one to predict.")
detected = detect_task(frame[target])
task_choice = right.selectbox("Task", ["auto"] + list(TASKS), key=f"data_task_{current.digest}",
                              format_func=lambda t: f"auto (detected: {detected})" if t == "auto" else t)
task = detected if task_choice == "auto" else task_choice
current.target, current.task = target, (None if task_choice == "auto" else task_choice)

try:
    facts, profile = state.profile_cached(current.digest, frame, target, task)
except AutoMLError as err:
    show_error(err)
    st.stop()

m1, m2, m3, m4 = st.columns(4)
m1.metric("Task", facts.task)
m2.metric("Rows with a target", f"{facts.rows_with_target:,}", help="Rows whose target is missing are dropped.")
m3.metric("Features used", len(facts.features))
m4.metric("Memory", f"{profile.memory_mb:,.1f} MB")
if facts.dropped_missing_target:
    st.warning(f"{facts.dropped_missing_target:,} rows have no value in '{plain(target)}' and will be left out.")
if profile.warnings:
    shown_notes = profile.warnings[:MAX_NOTES]
    more = len(profile.warnings) - len(shown_notes)
    st.warning("\n".join(f"- {plain(note)}" for note in shown_notes)
               + (f"\n- … and {more:,} more (see the table below)" if more else ""), icon=":material/warning:")

st.subheader("Columns")
st.dataframe(profile.columns, hide_index=True, width="stretch",
             column_config={"missing_pct": st.column_config.ProgressColumn("missing %", min_value=0, max_value=100,
                                                                           format="%.1f%%"),
                            "used": st.column_config.CheckboxColumn("used as feature")})

st.subheader("Distributions")
shown = st.multiselect("Columns to plot", columns, default=[target] + facts.features[:5],
                       key=f"data_plot_{current.digest}_{target}")  # follows the chosen target
kinds = dict(zip(profile.columns["column"], profile.columns["kind"]))
grid = st.columns(3)
for i, name in enumerate(shown):
    kind = ("categorical" if facts.task != "regression" else "numeric") if name == target else kinds[name]
    grid[i % 3].plotly_chart(column_distribution(frame[name], kind), width="stretch", key=f"dist_{name}")

st.page_link(TRAIN, label="Continue to training", icon=":material/rocket_launch:")
