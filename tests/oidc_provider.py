"""A small, real OpenID Connect provider for the sign-in tests, and the helpers that put Streamlit in front of it.

Tests must not mock ``st.user``: the dashboard's sign-in is proven against a provider that speaks the protocol
(discovery, authorization code with PKCE, RS256 ID tokens checked against a JWKS), exactly as Streamlit's Authlib
client meets Google or Okta. Its "sign-in" is a form that asks only for an email: whoever types one becomes that user.
Authlib / joserfc do the cryptography (key, JWKS, signing, PKCE and at_hash arithmetic); this file holds the rules.
"""

from __future__ import annotations

import hmac
import html
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import uvicorn
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from browser import ROOT, free_port, wait_healthy
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CODE_SECONDS, TOKEN_SECONDS = 60, 3600
CLAIMS = ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email", "email_verified", "name"]


@dataclass(frozen=True)
class _Grant:
    """What an authorization code stands for until the client redeems it (once)."""

    client_id: str
    redirect_uri: str
    email: str
    nonce: str | None
    code_challenge: str | None
    expires_at: float


def _error(exc: OAuth2Error) -> Response:
    status, body, headers = exc()
    return JSONResponse(body, status_code=status, headers=dict(headers))


class OidcProvider:
    """One confidential client, any email signs in. ``with OidcProvider() as p:`` serves it on localhost."""

    def __init__(self, client_id: str = "automl-dashboard", client_secret: str | None = None,
                 redirect_uris: tuple[str, ...] = ()) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.redirect_uris: set[str] = set(redirect_uris)
        self._key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, dict] = {}
        # bound now, so the issuer URL is known before the server runs and no other process can take the port
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.issuer = f"http://localhost:{self.port}"  # localhost: a secure context for Chromium, as Streamlit needs
        self.server_metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self._discovery),
            Route("/authorize", self._authorize, methods=["GET", "POST"]),
            Route("/token", self._token, methods=["POST"]),
            Route("/jwks", self._jwks),
            Route("/userinfo", self._userinfo, methods=["GET", "POST"]),
        ])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def register_redirect_uri(self, uri: str) -> None:
        self.redirect_uris.add(uri)

    # -- lifecycle: uvicorn in a daemon thread (starts in ~0.1 s, stops when asked) --
    def start(self) -> OidcProvider:
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the OIDC provider did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- endpoints --
    async def _discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "claims_supported": CLAIMS,
        })

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self._key]).as_dict(private=False))

    def _check_client_and_redirect(self, params: dict[str, str]) -> None:
        """An unknown client or redirect URI gets an error page, never a redirect (RFC 6749 §4.1.2.1)."""
        if params.get("client_id") != self.client_id:
            raise InvalidClientError(description="unknown client_id")
        if params.get("redirect_uri") not in self.redirect_uris:
            raise InvalidRequestError(description="redirect_uri is not registered for this client")
        if params.get("response_type", "code") != "code":
            raise InvalidRequestError(description="only response_type=code is supported")
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") != "S256":
            raise InvalidRequestError(description="only the S256 code challenge method is supported")

    async def _authorize(self, request: Request) -> Response:
        is_get = request.method == "GET"
        params = dict(request.query_params) if is_get else dict(parse_qsl((await request.body()).decode()))
        try:
            self._check_client_and_redirect(params)
        except OAuth2Error as exc:
            return _error(exc)
        if is_get:
            return HTMLResponse(_sign_in_form(params))
        email = params.get("email", "").strip()
        if "@" not in email:
            return HTMLResponse(_sign_in_form(params, problem="Type an email address."), status_code=400)
        code = generate_token(32)
        self._codes[code] = _Grant(self.client_id, params["redirect_uri"], email, params.get("nonce") or None,
                                   params.get("code_challenge") or None, time.time() + CODE_SECONDS)
        target = add_params_to_uri(params["redirect_uri"], [("code", code), ("state", params.get("state", ""))])
        return RedirectResponse(target, status_code=302)  # 302: the browser follows a POST with a GET

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        try:
            return JSONResponse(self._exchange(form, request), headers={"Cache-Control": "no-store"})
        except OAuth2Error as exc:
            return _error(exc)

    def _exchange(self, form: dict[str, str], request: Request) -> dict:
        client_id, secret = extract_basic_authorization(request.headers)
        if client_id is None:  # client_secret_post
            client_id, secret = form.get("client_id"), form.get("client_secret")
        if client_id != self.client_id or not hmac.compare_digest(secret or "", self.client_secret):
            raise InvalidClientError(description="client authentication failed", status_code=401)
        if form.get("grant_type") != "authorization_code":
            raise InvalidRequestError(description="only grant_type=authorization_code is supported")
        grant = self._codes.pop(form.get("code", ""), None)  # popped first: a code is spent even by a failed try
        if grant is None or grant.expires_at < time.time() or grant.client_id != client_id:
            raise InvalidGrantError(description="unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise InvalidGrantError(description="redirect_uri differs from the authorization request's")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            if not hmac.compare_digest(create_s256_code_challenge(verifier), grant.code_challenge):
                raise InvalidGrantError(description="code_verifier does not match the code_challenge")
        access_token = generate_token(40)
        user = _user_claims(grant.email)
        self._tokens[access_token] = user
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": client_id, "iat": now, "exp": now + TOKEN_SECONDS, "auth_time": now,
                  "at_hash": create_half_hash(access_token, "RS256").decode(), **user}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self._key.kid}, claims, self._key)
        return {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                "scope": "openid email profile", "id_token": id_token}

    async def _userinfo(self, request: Request) -> Response:
        kind, _, token = request.headers.get("Authorization", "").partition(" ")
        user = self._tokens.get(token) if kind.lower() == "bearer" else None
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401,
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return JSONResponse(user)


def _user_claims(email: str) -> dict:
    """The same email is the same person (``sub``) in every run; the name is made from the email."""
    local = email.split("@", 1)[0]
    return {"sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email.lower()}")), "email": email,
            "email_verified": True, "name": local.replace(".", " ").replace("_", " ").title()}


def _sign_in_form(params: dict[str, str], problem: str = "") -> str:
    keep = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
            "code_challenge_method")
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">' for k in keep if k in params)
    note = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
    return (f"<!doctype html><html><head><title>Test sign-in</title></head><body><h1>Test sign-in</h1>{note}"
            f'<form method="post" action="/authorize">{hidden}<label for="email">Email</label> '
            '<input type="text" id="email" name="email" autocomplete="off" autofocus> '
            '<button type="submit">Sign in</button></form></body></html>')


# -- Streamlit in front of the provider --
def free_app_url() -> str:
    """An address for a Streamlit app still to start: the secrets file must name it before Streamlit runs."""
    return f"http://localhost:{free_port()}"


def write_secrets(path: Path, provider: OidcProvider, app_url: str, admins: list[str] | tuple[str, ...] = ()) -> Path:
    """Streamlit's ``[auth]`` section for ``provider`` and the dashboard's ``[automl] admins``; registers the
    app's callback with the provider, as one registers an app with Google."""
    redirect_uri = f"{app_url.rstrip('/')}/oauth2callback"
    provider.register_redirect_uri(redirect_uri)
    q = json.dumps  # a JSON string is a TOML basic string
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"[auth]\nredirect_uri = {q(redirect_uri)}\ncookie_secret = {q(secrets.token_urlsafe(48))}\n"
        f"client_id = {q(provider.client_id)}\nclient_secret = {q(provider.client_secret)}\n"
        f"server_metadata_url = {q(provider.server_metadata_url)}\n\n"
        f"[automl]\nadmins = [{', '.join(q(a) for a in admins)}]\n")
    return path


def start_streamlit_with_secrets(app_path: Path | str, workspace: Path | str,
                                 secrets_path: Path | str) -> tuple[subprocess.Popen, str]:
    """Streamlit on the port its secrets' ``redirect_uri`` names, reading only that secrets file; returns the
    process and the ``http://localhost:<port>`` URL to open (the origin its auth cookie is bound to)."""
    redirect_uri = tomllib.loads(Path(secrets_path).read_text())["auth"]["redirect_uri"]
    port = urlparse(redirect_uri).port
    env = {**os.environ, "AUTOML_WORKSPACE": str(workspace)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--secrets.files", str(secrets_path)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    except BaseException:
        proc.kill()
        raise
    return proc, url


def sign_in(page, app_url: str, email: str, timeout_ms: float = 30_000) -> None:
    """From a page of the app that shows a "Sign in" button: through the provider's form and back to the app."""
    app = app_url.rstrip("/") + "/"
    page.get_by_role("button", name="Sign in", exact=True).first.click(timeout=timeout_ms)
    page.wait_for_url(lambda url: urlparse(url).path == "/authorize", timeout=timeout_ms)
    page.locator("#email").fill(email)
    page.get_by_role("button", name="Sign in", exact=True).click()
    # the provider sends the browser to /oauth2callback, which Streamlit answers with a redirect to the home page
    page.wait_for_url(lambda url: url.startswith(app) and "/oauth2callback" not in url, timeout=timeout_ms)
