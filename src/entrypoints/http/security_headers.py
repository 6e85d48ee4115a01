"""Security headers on every HTTP response, added in one place in front of the whole app.

Bare ASGI rather than Litestar middleware, so that responses Litestar builds outside any
route (a 404, a 405, the exception handlers' problems) get them too. A header a handler
set itself is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from entrypoints.http.media_stream import ASGIApp, Message, Receive, Scope, Send

HTML_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""For HTML pages (the API docs viewer): scripts, fonts and fetches from this server only.
Inline styles are allowed because the viewer injects its stylesheet at run time; inline
scripts are not."""
OTHER_CSP: Final = "default-src 'none'; frame-ancestors 'none'"
"""For everything else (JSON, problems, metrics): nothing is to be loaded or framed."""
HSTS: Final = "max-age=31536000"
PERSONAL_DATA_PATHS: Final = ("/api/v1/appointments", "/api/v1/calls")
"""Responses under these paths carry patients' names and numbers: never cached."""


def with_security_headers(app: ASGIApp, *, https: bool) -> ASGIApp:
    """`app` with `X-Content-Type-Options`, `Referrer-Policy`, a Content-Security-Policy
    (strict for HTML, `default-src 'none'` otherwise), `Cache-Control: no-store` under
    `PERSONAL_DATA_PATHS`, and `Strict-Transport-Security` when the public URL is https
    (`https`). WebSockets and the lifespan pass through untouched."""

    async def secured(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        personal = any(
            path == prefix or path.startswith(prefix + "/") for prefix in PERSONAL_DATA_PATHS
        )

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(message.get("headers", ()), personal, https)
            await send(message)

        await app(scope, receive, send_secured)

    return secured


def _secured(
    headers: Sequence[tuple[bytes, bytes]], personal: bool, https: bool
) -> list[tuple[bytes, bytes]]:
    out = list(headers)
    present = {name.lower() for name, _ in out}
    content_type = next((v for n, v in out if n.lower() == b"content-type"), b"")
    html = content_type.lower().startswith(b"text/html")
    wanted: list[tuple[bytes, bytes]] = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", (HTML_CSP if html else OTHER_CSP).encode()),
    ]
    if personal:
        wanted.append((b"cache-control", b"no-store"))
    if https:
        wanted.append((b"strict-transport-security", HSTS.encode()))
    out.extend((name, value) for name, value in wanted if name not in present)
    return out
