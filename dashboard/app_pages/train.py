"""Train: set the budget and options, start the search in a background process, follow it live."""

from __future__ import annotations

import streamlit as st

from automl import runner
from automl.algorithms import get_algorithms
from automl.data import detect_task, guess_target
from automl.errors import AutoMLError
from automl.experiment import FINISHED
from automl.metrics import DEFAULT_METRIC, METRICS, metrics_for
from dashboard import signin, state
from dashboard.components import plain, show_error
from dashboard.live import live_progress
from dashboard.navigation import DATA

st.title("Train")

exp = state.current_experiment()
if exp is not None and exp.status not in FINISHED:
    live_progress(exp.id)
    st.stop()

table = state.table()
if table is None:
    st.info("Pick a table and its target on the Data page first.")
    st.page_link(DATA, label="Go to Data", icon=":material/table_chart:")
    st.stop()

frame = state.read_cached(table.digest, table.data, table.name)
target = table.target if table.target in frame.columns else guess_target(frame).column
task = table.task or detect_task(frame[target])
st.markdown(f"Table **{plain(table.name)}** · target **{plain(target)}** · task **{task}**  "
            f"(change them on the Data page)")

with st.form("train_form"):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Experiment name", value=f"{table.name.rsplit('.', 1)[0]} · {target}")
    time_budget = c2.number_input("Time budget (s)", min_value=5, max_value=24 * 3600, value=60, step=10,
                                  help="The whole search, refit and evaluation end within this time.")
    trials = c3.number_input("Trial budget (0 = only the time budget)", min_value=0, max_value=100_000, value=0)
    c4, c5, c6 = st.columns(3)
    options = metrics_for(task)
    metric = c4.selectbox("Metric", options, index=options.index(DEFAULT_METRIC[task]),
                          format_func=lambda m: METRICS[m].label)
    folds = c5.selectbox("CV folds", [None, 3, 5, 10], format_func=lambda k: "auto" if k is None else str(k),
                         help="auto: 5 folds up to 10,000 training rows, 3 above (more trials in the budget).")
    holdout = c6.slider("Held-out fraction", 0.05, 0.5, 0.2, 0.05,
                        help="Rows kept aside for the final report; the search never sees them.")
    algos = get_algorithms(None, task)
    chosen = st.multiselect("Algorithms", [a.name for a in algos], default=[a.name for a in algos],
                            format_func=lambda n: next(a.label for a in algos if a.name == n))
    c7, c8, c9 = st.columns(3)
    seed = c7.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0)
    ensemble = c8.checkbox("Ensemble the best trials when it beats the best one", value=True)
    refit_full = c9.checkbox("Refit on all rows after the held-out report", value=True,
                             help="The shipped model then learns from the held-out rows too; its held-out scores "
                                  "are those of the same configuration fitted without them.")
    onnx_only = st.checkbox("Only models that export to ONNX", value=False,
                            help="For mobile or embedded use: the search and the ensemble keep to algorithms "
                                 "with an ONNX converter, so the model always has an ONNX file.")
    start = st.form_submit_button("Start", type="primary", icon=":material/play_arrow:")

if start:
    try:
        if not chosen:
            raise AutoMLError("No algorithm is selected.", "Select at least one algorithm.")
        new = runner.start(state.workspace().root, target, data_bytes=table.data, filename=table.name, name=name,
                           owner=signin.viewer().email,
                           task=table.task, time_budget=float(time_budget), trials=int(trials) or None,
                           metric=metric, cv_folds=folds, holdout=float(holdout), algorithms=chosen,
                           seed=int(seed), ensemble=ensemble, refit_full=refit_full,
                           onnx_only=onnx_only)
    except AutoMLError as err:
        show_error(err)
    else:
        state.set_experiment(new.id)
        st.rerun()

if exp is not None:
    st.divider()
    st.caption("Last experiment in this session")
    live_progress(exp.id)
