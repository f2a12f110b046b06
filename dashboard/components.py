"""Widgets several pages use: the experiment header with its share link, the experiment picker, and
:func:`plain`, through which every user-given name (experiment, column, file, category) reaches Markdown."""

from __future__ import annotations

import html
import re
import zlib

import pandas as pd
import streamlit as st

from automl.deploy import to_safe_csv
from automl.experiment import FINISHED, Experiment, ExperimentMeta, read_access
from dashboard import signin, state

STATUS_ICON = {"completed": ":material/check_circle:", "running": ":material/autorenew:",
               "queued": ":material/schedule:", "failed": ":material/error:", "cancelled": ":material/cancel:"}


# Everything Markdown (and Streamlit's additions: $math$, :emoji:, :color[text]) gives a meaning to.
# '@' too: an email would otherwise become a mailto link.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&@])")


def plain(text: object) -> str:
    """``text`` as literal Markdown: each special character backslash-escaped, line breaks made spaces.

    A name like ``![p](http://host/pixel.png)`` then shows as those characters, never as
    an image the browser fetches, a link, HTML or a heading.
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", " ".join(str(text).splitlines()))


def table_download(frame: pd.DataFrame, label: str, file_name: str, key: str) -> None:
    """A CSV download of ``frame`` with spreadsheet formulas escaped: the tables' own export is off
    (``client.disableDataExport``) because it writes cells such as ``=HYPERLINK(...)`` as they are."""
    st.download_button(label, to_safe_csv(frame).encode(), file_name=file_name, mime="text/csv", key=key,
                       icon=":material/download:")


def share_link(exp: Experiment) -> str:
    base = st.context.url or ""
    return f"{base}?{state.EXPERIMENT_PARAM}={exp.id}"


_COPY_SCRIPT = """<script>
document.querySelectorAll("button.automl-copy:not([data-ready])").forEach((button) => {
  button.dataset.ready = "1";
  button.addEventListener("click", async () => {
    const text = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {  // plain http on another host: no clipboard API, the old way still works
      const area = Object.assign(document.createElement("textarea"), {value: text});
      document.body.appendChild(area); area.select(); document.execCommand("copy"); area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = button.dataset.label; }, 1500);
  });
});
</script>"""


def copy_button(text: str, label: str = "Copy link") -> None:
    """A button that puts ``text`` on the clipboard (Streamlit has none; the text travels as an escaped attribute,
    never as script)."""
    value, shown = html.escape(text, quote=True), html.escape(label, quote=True)
    st.html(f'<button type="button" class="automl-copy" data-copy="{value}" data-label="{shown}" '
            'style="border:1px solid #d0d3e0;border-radius:0.5rem;background:#fff;padding:0.25rem 0.75rem;'
            f'cursor:pointer;font:inherit">{shown}</button>{_COPY_SCRIPT}', unsafe_allow_javascript=True)


def experiment_header(exp: Experiment) -> ExperimentMeta:
    """Title, status and a copyable link that opens this very page on this experiment; returns its record."""
    record = exp.record
    status = exp.status
    left, right = st.columns([3, 2])
    with left:
        st.subheader(plain(record.display_name or exp.id))
        st.caption(f"{STATUS_ICON.get(status, '')} **{status}** · {record.task or '?'} · target "
                   f"**{plain(record.target or '?')}** · metric `{record.metric or '?'}` · id `{exp.id}`")
        if signin.enabled():
            access, rights = read_access(exp.path), signin.rights(exp)
            owner = f"owner **{plain(access.owner or 'nobody (made before sign-in)')}** · {plain(access.describe())}"
            st.caption(owner + (" · **read-only for you**" if rights.read_only else f" · you: {rights.role}"))
    with right:
        link = share_link(exp)
        # Keyed by the link too: the first run may not know the page's address yet, and a widget keeps its value.
        st.text_input("Share this experiment (copy the link)", value=link,
                      key=f"link_{exp.id}_{zlib.crc32(link.encode())}",
                      help="Signed-in people it is shared with (and admins) open exactly this experiment with the "
                           "link; to anyone else it does not exist." if signin.enabled() else
                           "Anyone who can reach this server opens exactly this experiment with the link.")
        copy_button(link)
    from dashboard.lifecycle import standing_note

    standing_note(exp)
    return record


def pick_experiment(label: str = "Experiment", only_finished: bool = True) -> Experiment | None:
    """A selectbox over the workspace's experiments, defaulting to the current one."""
    table = state.workspace().summaries(signin.viewer())
    if only_finished:
        table = table[table["status"].isin(["completed", "cancelled"])]
    if table.empty:
        return None
    ids = table["id"].tolist()
    names = dict(zip(table["id"], table["name"] + " · " + table["status"] + " · " + table["id"].str[:6]))
    current = st.session_state.get(state.SESSION_EXPERIMENT)
    index = ids.index(current) if current in ids else 0
    chosen = st.selectbox(label, ids, index=index, format_func=names.get)
    return state.workspace().get(chosen, signin.viewer()) if chosen else None


def require_experiment() -> Experiment:
    """The current experiment, or a picker; stops the page when there is none at all."""
    exp = state.current_experiment()
    if exp is not None:
        return exp
    exp = pick_experiment()
    if exp is None:
        from dashboard.navigation import DATA

        st.info("No experiment yet. Pick a table and train a model first.")
        st.page_link(DATA, label="Go to Data", icon=":material/table_chart:")
        st.stop()
    state.set_experiment(exp.id)
    return exp


def show_error(err: Exception) -> None:
    """An AutoMLError as the user should read it: the problem, then the fix."""
    problem = getattr(err, "problem", str(err))
    fix = getattr(err, "fix", None)
    st.error(f"**{plain(problem)}**" + (f"\n\n{plain(fix)}" if fix else ""), icon=":material/error:")


def require_model(exp: Experiment, what: str) -> None:
    """Stop the page with a word of why when the experiment has no trained model yet."""
    if exp.status not in FINISHED or not exp.has_model:
        st.info(f"{what} need a trained model: wait for the search to finish, or pick another experiment.")
        st.stop()


def require_right(exp: Experiment, right: str, what: str) -> None:
    """Stop the page with a word of why when the signed-in user lacks ``right`` ("manage" or "download")."""
    if getattr(signin.rights(exp), right):
        return
    who = "its owner and the admins" if right == "manage" else "those its owner allows to use the model"
    st.info(f"{what} is for {who}; this experiment is read-only for you.", icon=":material/lock:")
    st.stop()
