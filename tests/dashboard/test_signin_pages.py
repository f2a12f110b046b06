"""With sign-in configured, someone not signed in sees the sign-in and nothing else, on every page and link.

(Signed-in users, roles and sharing run against a real OpenID Connect provider in real Chromium:
test_signin_browser.py.)
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard_pages import APP, completed_ws  # noqa: F401 (a fixture)

PAGES = ["data", "train", "results", "explain", "predict", "monitor", "experiments"]
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "dashboard",
        "client_secret": "s" * 32, "server_metadata_url": "http://localhost:1/.well-known/openid-configuration"}


def _shown(at: AppTest) -> str:
    every = [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption, *at.info, *at.error, *at.warning,
             *at.success, *at.text_input, *at.dataframe, *at.metric]
    return "\n".join(str(getattr(e, "value", "")) + str(getattr(e, "label", "")) for e in every)


@pytest.mark.parametrize("page", PAGES)
def test_not_signed_in_shows_only_the_sign_in_on_every_page_and_link(completed_ws, page):  # noqa: F811
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.query_params["experiment"] = completed_ws.id
    at.run()
    if page != "data":
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert [t.value for t in at.title] == ["AutoML dashboard"] and "Sign in to see" in at.info[0].value
    shown = _shown(at)
    for secret in (completed_ws.id, completed_ws.record.display_name, "Survived", "titanic"):
        assert secret not in shown
    assert len(at.dataframe) == len(at.metric) == len(at.text_input) == len(at.sidebar.button) == 0


def test_without_auth_the_dashboard_is_single_user_as_before(completed_ws):  # noqa: F811
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["experiment"] = completed_ws.id
    at.run()
    at.switch_page("app_pages/experiments.py")
    at.run()
    assert not at.exception and "Sign in" not in [b.label for b in at.button]
    listing = at.dataframe[0].value
    assert completed_ws.id in listing["id"].tolist() and "owner" not in listing.columns
