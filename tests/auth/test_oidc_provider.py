"""The test OpenID Connect provider speaks the protocol, and Streamlit's own ``st.login`` signs in against it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from browser import ROOT, browser, no_exception  # noqa: F401 (browser: a fixture)
from joserfc import jwt
from joserfc.jwk import KeySet
from oidc_provider import OidcProvider, free_app_url, sign_in, start_streamlit_with_secrets, write_secrets

APP = "http://localhost:8599"
REDIRECT = f"{APP}/oauth2callback"
PROBE = ROOT / "tests" / "auth" / "signin_probe_app.py"
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def provider():
    with OidcProvider(client_id="probe", client_secret="probe-secret", redirect_uris=(REDIRECT,)) as p:
        yield p


@pytest.fixture
def http(provider):
    with httpx.Client(base_url=provider.issuer, timeout=10) as client:
        yield client


def authorize(http: httpx.Client, email: str, verifier: str | None, nonce: str = "n-0S6_WzA2Mj",
              redirect_uri: str = REDIRECT) -> str:
    """The browser's half of the code flow: the form, then the code it redirects back with."""
    params = {"response_type": "code", "client_id": "probe", "redirect_uri": redirect_uri, "state": "st-1",
              "nonce": nonce, "scope": "openid email profile", "prompt": "select_account"}
    if verifier is not None:
        params |= {"code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    form = http.get("/authorize", params=params)
    assert form.status_code == 200 and 'name="email"' in form.text and ">Sign in</button>" in form.text
    done = http.post("/authorize", data={**params, "email": email})
    assert done.status_code == 302
    target = urlparse(done.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == redirect_uri and query["state"] == ["st-1"]
    return query["code"][0]


def redeem(http: httpx.Client, code: str, verifier: str | None, secret: str = "probe-secret",
           redirect_uri: str = REDIRECT, basic: bool = True) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    if basic:
        return http.post("/token", data=data, auth=("probe", secret))
    return http.post("/token", data={**data, "client_id": "probe", "client_secret": secret})


def test_discovery_document(provider, http) -> None:
    doc = http.get("/.well-known/openid-configuration").json()
    assert provider.server_metadata_url == f"{provider.issuer}/.well-known/openid-configuration"
    assert provider.issuer == f"http://localhost:{provider.port}" and doc["issuer"] == provider.issuer
    for name, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
                       ("jwks_uri", "/jwks"), ("userinfo_endpoint", "/userinfo")]:
        assert doc[name] == provider.issuer + path
    assert doc["response_types_supported"] == ["code"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert {"openid", "email", "profile"} <= set(doc["scopes_supported"])
    assert {"sub", "email", "email_verified", "name", "nonce"} <= set(doc["claims_supported"])
    assert doc["subject_types_supported"] == ["public"]
    assert "end_session_endpoint" not in doc  # st.logout then returns straight to the app


@pytest.mark.parametrize("basic", [True, False], ids=["client_secret_basic", "client_secret_post"])
def test_code_flow_with_pkce_gives_a_verifiable_id_token(provider, http, basic) -> None:
    verifier = generate_token(64)
    code = authorize(http, "ada.lovelace@example.com", verifier, nonce="nonce-42")
    resp = redeem(http, code, verifier, basic=basic)
    assert resp.status_code == 200, resp.text
    token = resp.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0 and token["access_token"]

    keys = KeySet.import_key_set(http.get("/jwks").json())
    assert all("d" not in k for k in http.get("/jwks").json()["keys"])  # public half only
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256"
    claims = CodeIDToken(decoded.claims, decoded.header, {"iss": {"values": [provider.issuer]}},
                         {"nonce": "nonce-42", "client_id": "probe", "access_token": token["access_token"]})
    claims.validate()  # what Authlib's client (so Streamlit) checks: iss, aud, exp, iat, nonce, at_hash
    assert claims["aud"] == "probe" and claims["iss"] == provider.issuer and claims["nonce"] == "nonce-42"
    assert claims["email"] == "ada.lovelace@example.com" and claims["email_verified"] is True
    assert claims["name"] == "Ada Lovelace" and claims["exp"] > claims["iat"]

    info = http.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.status_code == 200 and info.json()["email"] == "ada.lovelace@example.com"
    assert info.json()["sub"] == claims["sub"]
    assert http.get("/userinfo", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_wrong_nonce_or_audience_fails_verification(provider, http) -> None:
    """The verification above can fail: a token checked against another nonce or client is refused."""
    code = authorize(http, "bob@example.com", None, nonce="right")
    token = redeem(http, code, None).json()
    decoded = jwt.decode(token["id_token"], KeySet.import_key_set(http.get("/jwks").json()), algorithms=["RS256"])
    for params in ({"nonce": "wrong", "client_id": "probe"}, {"nonce": "right", "client_id": "other"}):
        with pytest.raises(Exception, match="nonce|azp"):  # Authlib names a foreign aud "azp"
            CodeIDToken(decoded.claims, decoded.header, None, params).validate()


def test_subject_is_stable_per_email(http) -> None:
    def sub(email: str) -> str:
        token = redeem(http, authorize(http, email, None), None).json()
        return jwt.decode(token["id_token"], KeySet.import_key_set(http.get("/jwks").json())).claims["sub"]

    assert sub("carol@example.com") == sub("carol@example.com") != sub("dave@example.com")


def test_a_code_is_used_once(http) -> None:
    verifier = generate_token(64)
    code = authorize(http, "eve@example.com", verifier)
    assert redeem(http, code, verifier).status_code == 200
    again = redeem(http, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("spoil, status, error", [
    ({"secret": "not-the-secret"}, 401, "invalid_client"),
    ({"verifier": "x" * 64}, 400, "invalid_grant"),
    ({"verifier": None}, 400, "invalid_grant"),
    ({"redirect_uri": "http://localhost:8599/elsewhere"}, 400, "invalid_grant"),
], ids=["wrong-client-secret", "wrong-code-verifier", "missing-code-verifier", "other-redirect-uri"])
def test_token_requests_that_are_refused(http, spoil, status, error) -> None:
    verifier = generate_token(64)
    code = authorize(http, "mallory@example.com", verifier)
    resp = redeem(http, code, **{"verifier": verifier, **spoil})
    assert resp.status_code == status and resp.json()["error"] == error
    assert "id_token" not in resp.json()


@pytest.mark.parametrize("spoil", [{"client_id": "someone-else"}, {"redirect_uri": "http://evil.example/cb"},
                                   {"code_challenge_method": "plain"}])
def test_authorize_refuses_unknown_clients_and_redirects(http, spoil) -> None:
    params = {"response_type": "code", "client_id": "probe", "redirect_uri": REDIRECT, "state": "s",
              "code_challenge": create_s256_code_challenge(generate_token(64)), "code_challenge_method": "S256"}
    for resp in (http.get("/authorize", params={**params, **spoil}),
                 http.post("/authorize", data={**params, **spoil, "email": "a@example.com"})):
        assert resp.status_code in (400, 401) and "location" not in resp.headers


# -- the proof: Streamlit's st.login in real Chromium --
@pytest.fixture(scope="module")
def probe_app(provider, tmp_path_factory):
    """The probe app behind Streamlit's own auth routes, signed in through ``provider``."""
    tmp = tmp_path_factory.mktemp("signin")
    app_url = free_app_url()
    secrets_path = write_secrets(tmp / "secrets.toml", provider, app_url, admins=["ada@example.com"])
    proc, url = start_streamlit_with_secrets(PROBE, tmp / "workspace", secrets_path)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except Exception:
        proc.kill()


def _signed_in_text(page, email: str):
    return page.get_by_text(f"Signed in as {email}", exact=True)


@pytest.mark.browser
def test_st_login_signs_in_and_out_in_chromium(browser, probe_app) -> None:
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(probe_app)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
        sign_in(page, probe_app, "ada@example.com")
        expect(_signed_in_text(page, "ada@example.com")).to_be_visible(timeout=WAIT_MS)
        assert page.url == probe_app + "/"  # Streamlit returns to the home page
        user_cookie = {c["name"]: c for c in context.cookies()}["_streamlit_user"]
        assert user_cookie["httpOnly"] and user_cookie["sameSite"] == "Lax"

        page.reload()  # a new session reads the identity cookie again
        expect(_signed_in_text(page, "ada@example.com")).to_be_visible(timeout=WAIT_MS)
        no_exception(page)

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        assert "_streamlit_user" not in {c["name"] for c in context.cookies()}
        page.reload()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("Signed in as")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.browser
def test_two_browsers_each_see_their_own_user(browser, probe_app) -> None:
    from playwright.sync_api import expect

    contexts = [browser.new_context(), browser.new_context()]
    try:
        pages = [c.new_page() for c in contexts]
        emails = ["grace@example.com", "linus@example.com"]
        for page, email in zip(pages, emails):
            page.goto(probe_app)
            sign_in(page, probe_app, email)
        for page, email, other in zip(pages, emails, reversed(emails)):
            page.reload()
            expect(_signed_in_text(page, email)).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(f"Signed in as {other}")).to_have_count(0)
    finally:
        for c in contexts:
            c.close()
