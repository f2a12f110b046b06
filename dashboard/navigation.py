"""The pages, in the order a user goes through them."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent / "app_pages"


def _page(file: str, title: str, icon: str, default: bool = False) -> st.Page:
    return st.Page(HERE / file, title=title, icon=icon, default=default, url_path=Path(file).stem)


DATA = _page("data.py", "Data", ":material/table_chart:", default=True)
TRAIN = _page("train.py", "Train", ":material/rocket_launch:")
RESULTS = _page("results.py", "Results", ":material/leaderboard:")
EXPLAIN = _page("explain.py", "Explain", ":material/psychology:")
PREDICT = _page("predict.py", "Predict", ":material/bolt:")
MONITOR = _page("monitor.py", "Monitor", ":material/monitor_heart:")
EXPERIMENTS = _page("experiments.py", "Experiments", ":material/folder_open:")
PAGES = [DATA, TRAIN, RESULTS, EXPLAIN, PREDICT, MONITOR, EXPERIMENTS]
