"""An experiment's life after its search: resume a stopped one, and where it stands in the model registry."""

from __future__ import annotations

import streamlit as st

from automl import runner
from automl.errors import AutoMLError
from automl.experiment import AccessDenied, Experiment, Registry, Workspace
from dashboard import signin, state
from dashboard.components import plain, show_error


def resume_control(exp: Experiment, where: str) -> None:
    """A Resume form for a cancelled or failed search that kept its study; a word of why not otherwise."""
    if exp.status not in runner.RESUMABLE or not signin.rights(exp).manage:
        return
    why = runner.resume_blocker(exp)
    if why is not None:
        st.caption(f"It can't be resumed: {plain(why)}.")
        return
    with st.form(f"resume_{where}_{exp.id}", border=False):
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        budget = c1.number_input("More time (s)", min_value=5, max_value=24 * 3600, value=60, step=10,
                                 key=f"resume_budget_{where}_{exp.id}")
        go = c2.form_submit_button("Resume the search", icon=":material/resume:",
                                   help="Continues the same study: its trials are kept and the search goes on.")
    if go:
        try:
            runner.start_resume(exp, time_budget=float(budget), by=state.actor())
        except AutoMLError as err:
            show_error(err)
            return
        state.set_experiment(exp.id)
        from dashboard.navigation import TRAIN

        st.switch_page(TRAIN, query_params={state.EXPERIMENT_PARAM: exp.id})


def standing_note(exp: Experiment) -> None:
    """Whether this experiment is the champion of a registered name, or was superseded and by which one."""
    try:
        standing = Registry(state.workspace()).standing(exp.id)
    except AutoMLError as err:  # a damaged registry.json: say so once, the page itself still works
        show_error(err)
        return
    if standing is None:
        return
    who = f" by {plain(standing.by)}" if standing.by else ""
    when = f" on {standing.at[:16].replace('T', ' ')}" if standing.at else ""
    if standing.is_champion:
        st.success(f"Champion of **{plain(standing.name)}**{when}{who}: `automl serve {plain(standing.name)}` "
                   "and predictions by name use this model.", icon=":material/military_tech:")
        return
    by = f" by experiment `{standing.superseded_by}`" if standing.superseded_by else ""
    st.warning(f"Superseded{by}{when}: **{plain(standing.name)}** is now served by experiment "
               f"`{standing.champion}`. This model still works, but serving by name uses the champion.",
               icon=":material/history:")
    from dashboard.navigation import RESULTS

    st.page_link(RESULTS, label="Open the champion", icon=":material/military_tech:",
                 query_params={state.EXPERIMENT_PARAM: standing.champion})


def champion_form(ws: Workspace, exp: Experiment) -> None:
    """Make this experiment the champion of a name: registers the name, or promotes it over the champion.

    With sign-in, only who manages this experiment may, and a name already registered only over a champion they
    manage too: nobody takes over another team's name.
    """
    registry = Registry(ws)
    standing = registry.standing(exp.id)
    if standing is not None and standing.is_champion or not signin.rights(exp).manage:
        return
    with st.form(f"champion_{exp.id}", border=False):
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        name = c1.text_input("Model name in the registry", value=standing.name if standing else "",
                             placeholder="e.g. churn", help="`automl serve NAME` and `automl predict NAME` follow "
                                                          "the champion of a name.")
        go = c2.form_submit_button("Make it the champion", icon=":material/military_tech:")
    if go:
        try:
            current = registry.champion(name.strip())
            if current is not None:
                if not signin.rights(Experiment(ws.root / current)).manage:
                    raise AccessDenied(f"promote over the champion of '{name.strip()}' (experiment {current})")
                registry.promote(name.strip(), exp, by=state.actor())
            else:
                registry.register(name.strip(), exp, by=state.actor())
        except AutoMLError as err:
            show_error(err)
            return
        st.rerun()
