"""What the REST service checks before a request reaches its route: the bearer token and the body size.

A plain ASGI middleware, so both hold for every route (``/docs`` too) and the
body limit is enforced *while the body arrives*: a declared ``Content-Length``
over the limit is refused before a byte is read (and the HTTP parser delivers
no more than the declared length), and a body sent without one (chunked) is
counted here as it streams and refused once it passes the limit. The service
never holds more than the limit in memory.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

OPEN_PATHS = frozenset({"/health"})  # answered without a token: load balancers and probes have none

CLOSE = [(b"connection", b"close")]  # the unread rest of a refused body is not read as a next request
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Guard:
    """ASGI middleware: 401 without the right ``Authorization: Bearer <token>`` (when a token is set),
    413 for a body over ``max_bytes``."""

    def __init__(self, app: Callable, token: str | None, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.expected is not None and scope["path"] not in OPEN_PATHS:
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):  # constant time: no guessing by timing
                what = "A wrong token was sent" if given else "No token was sent"
                await _answer(send, 401, f"{what}. This service needs 'Authorization: Bearer <token>' "
                              "(the token it was started with: --token or AUTOML_SERVE_TOKEN).",
                              [(b"www-authenticate", b"Bearer")])
                return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _answer(send, 413, self._too_large(f"The body is {int(declared):,} bytes"), CLOSE)
            return
        if declared is None:  # chunked: read it here, counting, and hand the app the whole body
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunks.append(message.get("body", b""))
                size, more = size + len(chunks[-1]), message.get("more_body", False)
                if size > self.max_bytes:
                    await _answer(send, 413, self._too_large(f"The body passed {self.max_bytes:,} bytes"), CLOSE)
                    return
            receive = _replay(b"".join(chunks), receive)
        await self.app(scope, receive, send)  # a declared length is what the HTTP parser lets through

    def _too_large(self, what: str) -> str:
        mb = self.max_bytes / 1_000_000
        return (f"{what}; this service accepts at most {mb:g} MB per request (--max-body-mb). "
                "Send the rows in several smaller requests.")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the whole body once, then waits on the real one (for a disconnect)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
