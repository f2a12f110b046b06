"""Experiments: every run in the workspace the user may see; open, rename, share, delete, compare two."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from automl.errors import AutoMLError
from automl.evaluation import compare
from automl.experiment import read_access, read_changes, share
from dashboard import signin, state
from dashboard.components import plain, show_error, table_download
from dashboard.lifecycle import champion_form
from dashboard.navigation import RESULTS

st.title("Experiments")
ws = state.workspace()
viewer = signin.viewer()
table = ws.summaries(viewer)
if not signin.enabled():
    table = table.drop(columns=["owner", "access"])  # one user: nobody to tell apart
if table.empty:
    st.info("No experiments you can see yet." if signin.enabled() else "No experiments in this workspace yet.")
    st.stop()

# The experiment in the link (or this session's) comes selected, with its actions below the list.
current = st.query_params.get(state.EXPERIMENT_PARAM) or st.session_state.get(state.SESSION_EXPERIMENT)
rows = table.index[table["id"] == current].tolist()
event = st.dataframe(
    table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
    key=f"exp_table_{current if rows else ''}", selection_default={"selection": {"rows": rows[:1]}} if rows else None,
    column_config={"cv_score": st.column_config.NumberColumn("CV score", format="%.4f"),
                   "holdout": st.column_config.NumberColumn("held-out", format="%.4f"),
                   "duration_s": st.column_config.NumberColumn("duration (s)", format="%.0f")})
selected = event.selection.rows if event and event.selection else []
if selected:
    row = table.iloc[selected[0]]
    chosen = ws.get(row["id"], viewer)
    rights = signin.rights(chosen)
    st.markdown(f"**{plain(row['name'])}** · `{row['id']}` · {row['status']}"
                + (" · read-only for you" if rights.read_only else ""))
    c1, c2, c3 = st.columns([1, 2, 1])
    if c1.button("Open", icon=":material/open_in_new:", type="primary"):
        state.set_experiment(row["id"])
        st.switch_page(RESULTS, query_params={state.EXPERIMENT_PARAM: row["id"]})
    if rights.manage:
        with c2.form(f"rename_{row['id']}", border=False):
            new_name = st.text_input("New name", value=row["name"], label_visibility="collapsed")
            if st.form_submit_button("Rename", icon=":material/edit:"):
                try:
                    ws.rename(row["id"], new_name, by=viewer)
                    st.rerun()
                except AutoMLError as err:
                    show_error(err)

    @st.dialog("Delete this experiment?")
    def confirm_delete(exp_id: str, name: str) -> None:
        st.markdown(f"**{plain(name)}** (`{exp_id}`) and all its files — model, study, data — will be deleted. "
                 "This can't be undone.")
        if st.button("Delete", type="primary", icon=":material/delete:"):
            try:
                ws.delete(exp_id, by=viewer)
            except AutoMLError as err:
                show_error(err)
                return
            if st.session_state.get(state.SESSION_EXPERIMENT) == exp_id:
                state.set_experiment(None)
            st.rerun()

    if rights.manage and c3.button("Delete…", icon=":material/delete:"):
        confirm_delete(row["id"], row["name"])
    if row["status"] == "completed":
        champion_form(ws, chosen)
    if signin.enabled() and rights.manage:
        access = read_access(chosen.path)
        with st.form(f"share_{chosen.id}", border=False):
            st.markdown(f"**Sharing** · {plain(access.describe())}")
            everyone = st.checkbox("Everyone signed in may see it (read-only)", value=access.everyone)
            emails = st.text_area("Or these people (one email per line)", value="\n".join(access.emails),
                                  height=80)
            downloads = st.checkbox("They may download the model files and predict with it", value=access.downloads)
            if st.form_submit_button("Save sharing", icon=":material/share:"):
                try:
                    share(chosen, viewer, everyone=everyone, emails=emails.splitlines(), downloads=downloads)
                    st.rerun()
                except AutoMLError as err:
                    show_error(err)
    changes = read_changes(chosen.path, last=5)
    if changes:
        st.caption("Latest changes: " + " · ".join(
            plain(f"{c.at[:16].replace('T', ' ')} {c.by}: {c.what}" + (f" ({c.detail})" if c.detail else ""))
            for c in reversed(changes)))

st.subheader("Compare two experiments")
ids = table["id"].tolist()
labels = dict(zip(table["id"], table["name"] + " · " + table["id"].str[:6]))
if len(ids) < 2:
    st.caption("Train a second experiment to compare.")
    st.stop()
c1, c2 = st.columns(2)
a = c1.selectbox("First", ids, index=0, format_func=labels.get, key="cmp_a")
b = c2.selectbox("Second", ids, index=1, format_func=labels.get, key="cmp_b")
if a == b:
    st.caption("Pick two different experiments.")
    st.stop()
try:
    comparison = compare(ws.get(a, viewer), ws.get(b, viewer))
except AutoMLError as err:
    show_error(err)
    st.stop()
if comparison.refused:
    st.warning(plain(comparison.refused), icon=":material/block:")
    st.stop()
st.markdown("**Summary**")
st.dataframe(comparison.summary, width="stretch")
st.markdown("**Held-out metrics**")
for note in comparison.notes:
    st.warning(plain(note), icon=":material/error:")
if comparison.holdout.empty:
    st.caption("Neither experiment has held-out metrics.")
else:
    st.dataframe(comparison.holdout, hide_index=True, width="stretch")
    st.caption("★ marks the better value of each metric (higher or lower, as that metric prefers). A gap smaller "
               "than the bootstrap intervals may be noise.")
st.markdown("**Configuration differences**")
if comparison.config.empty:
    st.caption("Same configuration.")
else:
    st.dataframe(comparison.config, width="stretch")
everything = pd.concat([t.astype(str).reset_index().rename(columns={"index": "row"}).assign(table=name)
                        for name, t in comparison.tables().items()], ignore_index=True)
table_download(everything[["table", *everything.columns.drop("table")]], "Comparison (CSV)",
               f"compare-{a[:8]}-{b[:8]}.csv", key="dl_compare")
