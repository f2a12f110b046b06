"""Entry point: `streamlit run dashboard/app.py` (or `automl dashboard`)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# Running as a script puts dashboard/ (not the project root) on sys.path; make `import dashboard` work.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import signin  # noqa: E402
from dashboard.navigation import PAGES  # noqa: E402

# A local file, not a Material icon name: Streamlit fetches those favicons from a font CDN, which fails offline.
st.set_page_config(page_title="AutoML dashboard", page_icon=str(ROOT / "dashboard" / "static" / "favicon.png"),
                   layout="wide")
# On a phone Plotly's own toolbar sits over the chart titles; pinch-zoom replaces it there, and Streamlit's
# element toolbar (full screen) stays.
st.html("<style>@media (max-width: 640px) { .js-plotly-plot .modebar-container { display: none !important; } }"
        "</style>")
signin.gate()  # with sign-in on, nothing below runs for someone not signed in: every page, every link
st.navigation(PAGES).run()
