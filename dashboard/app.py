"""Entry point: `streamlit run dashboard/app.py` (or `automl dashboard`)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# Running as a script puts dashboard/ (not the project root) on sys.path; make `import dashboard` work.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.navigation import PAGES  # noqa: E402

st.set_page_config(page_title="AutoML dashboard", page_icon=":material/model_training:", layout="wide")
st.navigation(PAGES).run()
