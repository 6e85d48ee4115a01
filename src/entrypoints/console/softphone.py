"""The console's "Try it" softphone: staff call their receptionist from the browser.

Two steps, as a carrier's webhook and media stream: `POST /console/softphone/calls`
(a signed-in session and the CSRF header) admits a call through the `CallGateway` and
answers with its one-time stream token; `WS /console/softphone/media` (the session
cookie again, and a same-origin `Origin`) presents that token in its `start` frame and
is run as the call. The call's reference carries a digest of the session that placed
it, so a token works only on a socket of the session it was issued to.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from adapters.browser.call_leg import (
    CARRIER,
    REFUSED,
    BrowserCallLeg,
    StreamNotStarted,
    read_start,
)
from adapters.browser.codec import AUDIO_FORMAT, outcome_fields
from application.calls.admission import CallStatusReport, IncomingCall
from application.errors import StorageUnavailable
from domain.calls import Call
from entrypoints.console.call_fields import BROWSER_CALLER_PREFIX, call_ref
from entrypoints.console.rendering import page
from entrypoints.console.security import PREFIX, SESSION_COOKIE, signed_in
from entrypoints.http.media_stream import AsgiWebSocket, MediaHandler
from entrypoints.http.telephony import Admitted, CallGateway, TurnedAway

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

MEDIA_PATH = f"{PREFIX}/softphone/media"
CALLS_PATH = "/softphone/calls"
COMPLETED = "completed"
"""The browser is its own carrier: its call is completed once the page's socket is done."""


def session_tag(session_token: str) -> str:
    """A short digest of the session cookie, written into the call's reference."""
    return hashlib.sha256(session_token.encode()).hexdigest()[:12]


def masked_email(email: str) -> str:
    """`a***@example.com`: enough for staff to tell their own try-outs apart."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"[:48]


def try_it_handlers(container: Container, gateway: CallGateway) -> list[HTTPRouteHandler]:
    """The page and the admitting POST; mounted on the console's staff-only router."""

    @get("/try")
    async def try_it(request: Request[Any, Any, Any]) -> Template:
        return page(request, "try.html", media_path=MEDIA_PATH)

    @post(CALLS_PATH, status_code=200)
    async def place_call(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """`{"status":"admitted","call","token","media_path"}`, or `{"status":
        "turned_away", "outcome", "say", "transfer_to", "message"}` (busy, no agent...)."""
        session = request.cookies.get(SESSION_COOKIE, "")
        reference = f"web-{session_tag(session)}-{secrets.token_hex(8)}"
        incoming = IncomingCall(
            carrier=CARRIER,
            carrier_call_id=reference,
            from_number=BROWSER_CALLER_PREFIX + masked_email(signed_in(request).email),
            to_number=container.practice().front_desk_phone or "practice",
            audio=AUDIO_FORMAT,  # so an agent opened ahead already speaks the page's audio
        )
        match await gateway.admit(incoming):
            case Admitted(token):
                body: dict[str, Any] = {
                    "status": "admitted",
                    "call": reference,
                    "token": token,
                    "media_path": MEDIA_PATH,
                }
            case TurnedAway(outcome):
                body = {"status": "turned_away", **outcome_fields(outcome)}
        return Response(body, headers={"Cache-Control": "no-store"})

    return [try_it, place_call]


def softphone_media_handler(container: Container, gateway: CallGateway) -> MediaHandler:
    """`WS /console/softphone/media`: refused (1008, before the handshake completes)
    without a signed-in session or from another origin; then the page's `start` names
    its call and token, and the stream runs as that call."""
    settings = container.settings()
    metrics = container.metrics()
    public = urlsplit(settings.public_base_url)

    def same_origin(socket: AsgiWebSocket) -> bool:
        origin = socket.header(b"origin")
        if not origin:
            return False
        parts = urlsplit(origin)
        if (parts.scheme, parts.netloc) == (public.scheme, public.netloc):
            return True
        return parts.netloc != "" and parts.netloc == socket.header(b"host")

    async def media(socket: AsgiWebSocket) -> None:
        session = _cookie(socket.header(b"cookie"), SESSION_COOKIE)
        account = await container.resume_session()(session) if session else None
        if account is None or not same_origin(socket):
            log.warning("refused a softphone stream: no signed-in session, or another origin")
            await socket.close(code=REFUSED, reason="forbidden")
            return
        await socket.accept()
        try:
            start = await read_start(socket, timeout_s=settings.media_start_timeout_s)
        except StreamNotStarted as exc:
            log.warning("softphone stream did not start: %s", exc)
            await socket.close(code=REFUSED, reason="no start")
            return
        assert session is not None
        if not start.call.startswith(f"web-{session_tag(session)}-"):
            log.warning("refused a softphone stream naming another session's call")
            await socket.close(code=REFUSED, reason="forbidden")
            return
        leg = BrowserCallLeg(socket, start.call, idle_timeout_s=settings.media_idle_timeout_s)

        def claimed(call: Call) -> None:
            leg.announce(call_ref(call))

        try:
            if await gateway.run_stream(leg, start.token, on_claimed=claimed):
                await _record_completed(gateway, start.call)
        finally:
            gateway.handed_off(CARRIER, start.call)
            await leg.close()
            metrics.dropped_frames.inc(leg.malformed_frames)

    return media


async def _record_completed(gateway: CallGateway, reference: str) -> None:
    """Before the socket closes, so a page that waits for the close finds it recorded."""
    report = CallStatusReport(
        carrier=CARRIER, carrier_call_id=reference, carrier_status=COMPLETED, final=True
    )
    try:
        await gateway.record_status(report)
    except StorageUnavailable:
        log.error("database unavailable: a softphone call's completion is not recorded")


def _cookie(header: str | None, name: str) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


__all__ = ["MEDIA_PATH", "softphone_media_handler", "try_it_handlers"]
