"""Sign-in (Streamlit's ``st.login``: OpenID Connect) and what the signed-in user may do here.

It is on when the secrets file has an ``[auth]`` section; every page then shows only the sign-in until the
user has signed in, and each experiment is seen and changed as its owner, the admins and the people it is
shared with allow (the rules are :class:`automl.experiment.Access`'s). The ``[automl]`` section of the same
file lists the ``admins`` and, optionally, who may sign in at all (``allowed``: emails or ``@domain``).
Without ``[auth]`` the dashboard is single-user: whoever reaches it controls everything, so it stays on
localhost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from automl.experiment import Experiment, Rights, Viewer, normal_email, rights_of

SETTINGS = "automl"
RETURN_KEY = "automl.after-sign-in"
# The provider sends the browser back to the app's home page: a share link opened before signing in is kept in
# the tab's sessionStorage and reopened after (same origin, a path only: never another site).
_KEEP_LINK = f"""<script>
if (location.search.includes("experiment=")) {{
  sessionStorage.setItem("{RETURN_KEY}", location.pathname + location.search);
}}
</script>"""
_REOPEN_LINK = f"""<script>
(() => {{
  const back = sessionStorage.getItem("{RETURN_KEY}");
  sessionStorage.removeItem("{RETURN_KEY}");
  const url = back ? new URL(back, location.origin) : null;
  if (url && url.origin === location.origin && url.href !== location.href) location.replace(url.href);
}})();
</script>"""


def _section(name: str) -> Mapping[str, Any]:
    try:
        if st.secrets.load_if_toml_exists() or len(st.secrets):  # AppTest's secrets are not a file
            return st.secrets.get(name) or {}
    except (FileNotFoundError, OSError, ValueError):
        pass
    return {}


def enabled() -> bool:
    """Whether sign-in is configured (an ``[auth]`` section in the secrets file)."""
    return bool(_section("auth"))


def _emails(key: str) -> tuple[str, ...]:
    value = _section(SETTINGS).get(key) or ()
    return tuple(normal_email(v) for v in ([value] if isinstance(value, str) else value))


def allowed(email: str) -> bool:
    """Everyone the provider signs in, unless ``allowed`` lists emails or ``@domain``s (admins always)."""
    rules = _emails("allowed")
    email = normal_email(email)
    return (not rules or email in _emails("admins") or email in rules
            or any(rule.startswith("@") and email.endswith(rule) for rule in rules))


def _user() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # no script context (bare mode): nobody signed in
        return {}


def viewer() -> Viewer:
    """Who is asking: the signed-in user (with whether they are an admin), or the single user of a local app."""
    if not enabled():
        return Viewer.single_user()
    user = _user()
    return Viewer.signed((user.get("email") if user.get("is_logged_in") else None) or "", _emails("admins"))


def rights(exp: Experiment) -> Rights:
    return rights_of(exp, viewer())


def _providers() -> list[str | None]:
    """The named providers (``[auth.google]``, …) to offer, or the one unnamed provider (None)."""
    named = [k for k, v in _section("auth").items() if isinstance(v, Mapping) and "client_id" in v]
    return named or [None]


def gate() -> None:
    """Before any page: the sign-in page (and nothing else) until signed in; then who is signed in, in the
    sidebar, with a way out. Does nothing when sign-in is off."""
    if not enabled():
        return
    user = _user()
    if not user.get("is_logged_in"):
        st.title("AutoML dashboard")
        st.info("Sign in to see your experiments and those shared with you.", icon=":material/lock:")
        for provider in _providers():
            label = "Sign in" if provider is None else f"Sign in with {provider.capitalize()}"
            if st.button(label, type="primary", icon=":material/login:", key=f"sign_in_{provider}"):
                if provider is None:
                    st.login()
                else:
                    st.login(provider)
        st.html(_KEEP_LINK, unsafe_allow_javascript=True)
        st.stop()
    email = user.get("email")
    from dashboard.components import plain

    if not email or not allowed(email):
        st.title("AutoML dashboard")
        who = f"The account {plain(email)}" if email else "Your account (the provider sent no email address)"
        st.error(f"{who} may not use this dashboard.", icon=":material/block:")
        st.caption("Ask an admin to add you to the allowed list, or sign in with another account.")
        if st.button("Sign out", icon=":material/logout:"):
            st.logout()
        st.stop()
    if not st.session_state.get("signin_reopened"):
        st.session_state["signin_reopened"] = True
        st.html(_REOPEN_LINK, unsafe_allow_javascript=True)
    with st.sidebar:
        role = " (admin)" if viewer().is_admin else ""
        st.caption(f"Signed in as **{plain(email)}**{role}")
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            st.logout()
