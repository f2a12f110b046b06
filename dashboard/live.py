"""The live view of a search: progress, leaderboard and history, refreshed every 1.5 s."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from automl import runner
from automl.experiment import FINISHED, ExperimentMeta
from automl.plots.search import history_figure
from automl.search import leaderboard, load_trials
from dashboard import signin, state
from dashboard.components import plain

REFRESH_S = 1.5


@st.fragment(run_every=REFRESH_S)
def live_progress(exp_id: str) -> None:
    from dashboard.components import experiment_header

    exp = state.workspace().get(exp_id, signin.viewer())
    experiment_header(exp)
    record, progress, status = exp.record, exp.progress, exp.status
    followed = f"followed_{exp_id}"
    if status in FINISHED:
        if st.session_state.pop(followed, False):
            st.rerun(scope="app")  # the page around this fragment brings its form back
        _finished(exp, record, status)
        return
    st.session_state[followed] = True
    budget, elapsed = progress.get("budget_s"), progress.get("elapsed_s")
    if elapsed is None:  # the worker hasn't written its first progress: count from its creation
        elapsed = _seconds_since(record.started or record.created)
    trial_budget = progress.get("trial_budget")
    share = min(elapsed / budget, 1.0) if budget else (
        min(progress.get("total", 0) / trial_budget, 1.0) if trial_budget else 0.0)
    left = f"{progress.get('remaining_s', 0):.0f}s left" if budget else ""
    phase = progress.get("phase") or ("the worker is starting (loading the libraries)" if status == "queued"
                                      else "starting")
    st.progress(share, text=f"{phase} · {elapsed:.0f}s elapsed · {left}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Trials done", progress.get("complete", 0))
    c2.metric("Pruned", progress.get("pruned", 0))
    c3.metric("Failed", progress.get("fail", 0))
    best = progress.get("best_score")
    c4.metric(f"Best {record.metric or 'score'}", "—" if best is None else f"{best:.4f}",
              help=progress.get("best_algorithm"))
    if signin.rights(exp).manage and st.button(
            "Cancel", icon=":material/stop_circle:", key=f"cancel_{exp_id}",
            help="Stops after the current fold and keeps the best model found so far."):
        runner.cancel(exp, by=state.actor())
        st.toast("Cancelling: the search stops after the current fold.")
    _board_and_history(exp, record)


def _board_and_history(exp, record: ExperimentMeta) -> None:
    """The top trials and the score history: live while searching, and left on screen once it ends."""
    trials = load_trials(exp.storage_url, exp.id) if record.metric else pd.DataFrame()
    if len(trials):
        greater = record.greater_is_better
        board = leaderboard(trials, greater, top=10)
        st.dataframe(board[["rank", "trial", "label", "score", "cv_std", "fit_time_s", "params"]],
                     hide_index=True, width="stretch",
                     column_config={"score": st.column_config.NumberColumn(f"CV {record.metric}", format="%.4f"),
                                    "cv_std": st.column_config.NumberColumn("± std", format="%.4f"),
                                    "fit_time_s": st.column_config.NumberColumn("fit time (s)", format="%.2f")})
        st.plotly_chart(history_figure(trials.to_dict("records"), greater, f"CV {record.metric}"), width="stretch",
                        key=f"hist_{exp.id}")


def _seconds_since(iso: str | None) -> float:
    if not iso:
        return 0.0
    try:
        return max((datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds(), 0.0)
    except ValueError:
        return 0.0


def _finished(exp, record: ExperimentMeta, status: str) -> None:
    from dashboard.lifecycle import resume_control
    from dashboard.navigation import RESULTS

    if status == "failed":
        st.error(f"The search failed: {plain(exp.no_model_reason())}.")
        resume_control(exp, "train")
        return
    best = record.headline_score
    text = f"Search {status}: {record.timing.trials or 0} trials"
    if best is not None:
        text += f"; held-out {record.metric} {best:.4f}"
    (st.success if status == "completed" else st.warning)(text)
    c1, c2 = st.columns(2)
    with c1:
        st.page_link(RESULTS, label="See the results", icon=":material/leaderboard:",
                     query_params={state.EXPERIMENT_PARAM: exp.id})
    if c2.button("Train again", icon=":material/replay:", key=f"again_{exp.id}",
                 help="Back to the form, with this experiment kept in the workspace."):
        state.set_experiment(None)
        st.rerun(scope="app")
    resume_control(exp, "train")
    _board_and_history(exp, record)
