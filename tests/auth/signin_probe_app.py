"""The smallest app that signs in with ``st.login``: tests/auth/test_oidc_provider.py drives it in Chromium."""

from __future__ import annotations

import streamlit as st

if not st.user.is_logged_in:
    if st.button("Sign in"):
        st.login()
else:
    st.write(f"Signed in as {st.user.email}")
    if st.button("Sign out"):
        st.logout()
