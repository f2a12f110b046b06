"""What pages share: the workspace, the chosen table, the current experiment.

The current experiment lives in the URL (``?experiment=<id>``) so a link opens
it for anyone; it is mirrored in the session so moving between pages keeps it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from automl.data import read_table
from automl.errors import AutoMLError
from automl.experiment import META, Experiment, Workspace

EXPERIMENT_PARAM = "experiment"
SESSION_EXPERIMENT = "current_experiment"
SESSION_TABLE = "table"


@dataclass
class Table:
    """The table picked on the Data page, as bytes so a worker process can get it too."""

    data: bytes
    name: str
    target: str | None = None
    task: str | None = None  # None: detected

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.data).hexdigest()


def workspace() -> Workspace:
    return Workspace()


@st.cache_data(max_entries=4, show_spinner="Reading the table…")
def read_cached(digest: str, data: bytes, name: str) -> pd.DataFrame:
    """Read once per distinct file (``digest`` keys the cache cheaply)."""
    return read_table(data, name=name)


def table() -> Table | None:
    return st.session_state.get(SESSION_TABLE)


def set_table(value: Table | None) -> None:
    st.session_state[SESSION_TABLE] = value


def set_experiment(exp_id: str | None) -> None:
    if exp_id:
        st.session_state[SESSION_EXPERIMENT] = exp_id
        st.query_params[EXPERIMENT_PARAM] = exp_id
    else:
        st.session_state.pop(SESSION_EXPERIMENT, None)
        st.query_params.pop(EXPERIMENT_PARAM, None)


def current_experiment() -> Experiment | None:
    """The experiment in the URL, else the session's; an unknown id shows a message and returns None."""
    exp_id = st.query_params.get(EXPERIMENT_PARAM) or st.session_state.get(SESSION_EXPERIMENT)
    if not exp_id:
        return None
    try:
        exp = workspace().get(exp_id)
    except AutoMLError as err:
        st.session_state.pop(SESSION_EXPERIMENT, None)
        st.error(f"{err.problem} {err.fix or ''}", icon=":material/link_off:")
        from dashboard.navigation import EXPERIMENTS

        st.page_link(EXPERIMENTS, label="Back to the experiments", icon=":material/arrow_back:")
        st.stop()
    set_experiment(exp.id)
    return exp


def meta_version(exp: Experiment) -> float:
    """Changes whenever experiment.json is rewritten: a cache key for anything derived from it."""
    return exp.file(META).stat().st_mtime_ns
