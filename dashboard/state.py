"""What pages share: the workspace, the chosen table, the current experiment.

The current experiment lives in the URL (``?experiment=<id>``) so a link opens
it for anyone; it is mirrored in the session so moving between pages keeps it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd
import streamlit as st

from automl.data import prepare_dataset, profile_table, read_table
from automl.errors import AutoMLError
from automl.experiment import META, Experiment, Workspace
from dashboard import signin

EXPERIMENT_PARAM = "experiment"
SESSION_EXPERIMENT = "current_experiment"
SESSION_TABLE = "table"
MAX_ID_SHOWN = 40


@dataclass
class Table:
    """The table picked on the Data page, as bytes so a worker process can get it too."""

    data: bytes
    name: str
    target: str | None = None
    task: str | None = None  # None: detected

    @cached_property
    def digest(self) -> str:  # once per table: a page asks for it several times per run
        return hashlib.sha1(self.data).hexdigest()


def workspace() -> Workspace:
    return Workspace()


@st.cache_data(max_entries=4, show_spinner="Reading the table…")
def read_cached(digest: str, _data: bytes, name: str) -> pd.DataFrame:
    """Read once per distinct file: ``digest`` keys the cache (``_data``, unhashed, would cost a hash per rerun)."""
    return read_table(_data, name=name)


@dataclass(frozen=True)
class TableFacts:
    """What the Data page shows of a prepared dataset (not the dataset: the cache keeps only this)."""

    task: str
    rows_with_target: int
    features: list[str]
    dropped_missing_target: int


@st.cache_data(max_entries=16, show_spinner="Profiling the columns…")
def profile_cached(digest: str, _frame: pd.DataFrame, target: str, task: str | None) -> tuple[TableFacts, Any]:
    """Prepare and profile once per (file content, target, task): reruns and other users reuse it.

    ``digest`` (of the file ``_frame`` was read from) keys the cache; the profile (an
    ``automl.data`` Profile) reuses the dataset's schema, so the columns are inferred once.
    """
    dataset = prepare_dataset(_frame, target, task=task)
    facts = TableFacts(task=dataset.task, rows_with_target=len(dataset.y), features=dataset.schema.features,
                       dropped_missing_target=dataset.dropped_missing_target)
    return facts, profile_table(_frame, target, dataset.task, schema=dataset.schema)


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
    try:  # one the signed-in user may not see is "not found" alike: a link leaks nothing
        exp = workspace().get(exp_id, signin.viewer())
    except (AutoMLError, OSError):  # OSError: an id too long for a file name
        from dashboard.components import plain

        st.session_state.pop(SESSION_EXPERIMENT, None)
        shown = exp_id if len(exp_id) <= MAX_ID_SHOWN else exp_id[:MAX_ID_SHOWN] + "…"
        # Our own words: the store's message names the workspace folder, which a visitor has no business knowing.
        st.error(f"There is no experiment '{plain(shown)}' here. Check the link or id, or open the Experiments "
                 "page to pick one.", icon=":material/link_off:")
        from dashboard.navigation import EXPERIMENTS

        st.page_link(EXPERIMENTS, label="Back to the experiments", icon=":material/arrow_back:")
        st.stop()
    set_experiment(exp.id)
    return exp


def meta_version(exp: Experiment) -> float:
    """Changes whenever experiment.json is rewritten: a cache key for anything derived from it."""
    return exp.file(META).stat().st_mtime_ns


def actor() -> str:
    """Who makes a change from this page, for the registry and the audit: the signed-in email, else "dashboard"."""
    return signin.viewer().label
