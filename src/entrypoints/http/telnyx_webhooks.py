"""Telnyx's TeXML webhooks (`/telnyx/voice`, `/telnyx/after-stream`, `/telnyx/status`)
and its media stream (`WS /telnyx/media`). Enabled only when `TELNYX_PUBLIC_KEY` is set.

Every webhook is verified (Ed25519 over `timestamp|raw body`, at most five minutes
old) before its form is read; a stream must name its call and present that call's
one-time token in its URL. What to do with a call is the `CallGateway`'s decision.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Request, Response, Router, post
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_403_FORBIDDEN

from adapters.system_clock import SystemClock
from adapters.telnyx import texml
from adapters.telnyx.call_leg import StreamNotStarted, TelnyxCallLeg
from adapters.telnyx.signature import TelnyxSignatureVerifier
from adapters.telnyx.stream_url import MEDIA_PATH, media_stream_url, stream_credentials
from adapters.telnyx.webhook_form import (
    InvalidWebhookForm,
    TelnyxCallForm,
    parse_call_form,
    parse_form,
)
from entrypoints.http.media_stream import AsgiWebSocket, MediaHandler
from entrypoints.http.telephony import Admitted, CallGateway, TurnedAway

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

CARRIER = "telnyx"
VOICE_PATH, AFTER_STREAM_PATH = "/telnyx/voice", "/telnyx/after-stream"
STATUS_PATH = "/telnyx/status"
XML, TEXT = MediaType.XML, MediaType.TEXT


def telnyx_verifier(container: Container) -> TelnyxSignatureVerifier | None:
    """None when Telnyx is not configured; a bad key raises `ValueError` naming it."""
    key = container.settings().telnyx_public_key
    return TelnyxSignatureVerifier(key) if key else None


def telnyx_router(
    container: Container, gateway: CallGateway, verifier: TelnyxSignatureVerifier
) -> Router:
    base = container.settings().public_base_url
    # Freshness is against the wall clock, whatever clock the practice's rules run on.
    clock = SystemClock()

    async def verified_form(request: Request[Any, Any, Any]) -> TelnyxCallForm | Response[str]:
        """The call's form if the request is Telnyx's, else the answer to give."""
        raw = await request.body()
        refusal = verifier.verify_headers(request.headers, raw, clock.now())
        if refusal is not None:
            log.warning("refused a Telnyx request to %s: %s", request.url.path, refusal)
            return Response("", status_code=HTTP_403_FORBIDDEN)
        try:
            return parse_call_form(parse_form(raw))
        except InvalidWebhookForm as exc:
            return Response(str(exc), status_code=400, media_type=TEXT)

    @post(VOICE_PATH, include_in_schema=False, status_code=200)
    async def voice(request: Request[Any, Any, Any]) -> Response[str]:
        form = await verified_form(request)
        if isinstance(form, Response):
            return form
        match await gateway.admit(form.incoming_call()):
            case Admitted(token):
                stream = media_stream_url(base, form.call_sid, token)
                after = base.rstrip("/") + AFTER_STREAM_PATH
                return Response(texml.connect_stream(stream, after), media_type=XML)
            case TurnedAway(outcome):
                return Response(texml.render(outcome), media_type=XML)

    @post(AFTER_STREAM_PATH, include_in_schema=False, status_code=200)
    async def after_stream(request: Request[Any, Any, Any]) -> Response[str]:
        form = await verified_form(request)
        if isinstance(form, Response):
            return form
        outcome = await gateway.after_stream(CARRIER, form.call_sid)
        return Response(texml.render(outcome), media_type=XML)

    @post(STATUS_PATH, include_in_schema=False, status_code=200)
    async def status(request: Request[Any, Any, Any]) -> Response[str | None]:
        form = await verified_form(request)
        if isinstance(form, Response):
            return form  # type: ignore[return-value]
        try:
            report = form.status_report()
        except InvalidWebhookForm as exc:
            return Response(str(exc), status_code=400, media_type=TEXT)
        await gateway.record_status(report)
        return Response(None, status_code=HTTP_204_NO_CONTENT)

    return Router(path="/", route_handlers=[voice, after_stream, status])


def telnyx_media_handler(container: Container, gateway: CallGateway) -> MediaHandler:
    """`WS /telnyx/media?call=...&token=...`: refused (1008) before any frame unless the
    URL names a call and a token; the token is checked when the stream starts."""
    settings = container.settings()
    metrics = container.metrics()

    async def media(socket: AsgiWebSocket) -> None:
        credentials = stream_credentials(socket.query_params())
        if credentials is None:
            log.warning("refused a Telnyx media stream without its call and token")
            await socket.close(code=1008, reason="forbidden")
            return
        await socket.accept()
        try:
            leg = await TelnyxCallLeg.open(
                socket,
                carrier_call_id=credentials.call_sid,
                start_timeout_s=settings.media_start_timeout_s,
                idle_timeout_s=settings.media_idle_timeout_s,
            )
        except StreamNotStarted as exc:
            log.warning("Telnyx media stream did not start: %s", exc)
            await socket.close(code=1008, reason="no start")
            return
        try:
            await gateway.run_stream(leg, credentials.token)
        finally:
            metrics.dropped_frames.inc(leg.malformed_frames + leg.late_frames)

    return media


__all__ = ["MEDIA_PATH", "telnyx_media_handler", "telnyx_router", "telnyx_verifier"]
