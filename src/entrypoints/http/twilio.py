"""Twilio's side of a call: the voice webhook, the media stream, what comes after it,
and status callbacks. Every request is signature-checked before anything happens; only
then are its fields cleaned (`clean_call_webhook_form`).

A webhook whose CallSid is missing or not a Twilio call sid is not a call: the voice
webhook and status callbacks answer 400, after-stream hangs up (as for an unknown call)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Request, Response, Router, post
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_403_FORBIDDEN

from adapters.twilio import twiml
from adapters.twilio.call_leg import StreamNotStarted, TwilioCallLeg
from adapters.twilio.signature import (
    SIGNATURE_HEADER,
    TwilioSignatureVerifier,
    media_stream_url,
    public_url,
)
from adapters.twilio.webhook_form import CallWebhookForm, clean_call_webhook_form
from application.calls.admission import CallStatusReport, IncomingCall
from application.errors import StorageUnavailable
from domain.calls import Call, NextStep, StreamRefused
from entrypoints.http.media_stream import AsgiWebSocket, MediaHandler
from entrypoints.observability.logging import bind_call

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

VOICE_PATH, MEDIA_PATH = "/twilio/voice", "/twilio/media"
AFTER_STREAM_PATH, STATUS_PATH = "/twilio/after-stream", "/twilio/status"
XML, TEXT = MediaType.XML, MediaType.TEXT
SORRY = "Sorry, our phone assistant is not available right now."
GOODBYE = "Thank you for calling. Goodbye."
CONNECTING = "Connecting you to the front desk now."
BUSY = "Sorry, all our lines are busy right now."


class TwilioGate:
    """The signature policy: checked when a token is configured; otherwise refused,
    unless the server runs with `--dev` and the request comes from loopback."""

    def __init__(self, tokens: list[str], *, public_base: str, dev: bool) -> None:
        self._verifier = TwilioSignatureVerifier(tokens) if tokens else None
        self._public_base, self._dev = public_base, dev

    def admits(
        self,
        *,
        path: str,
        query: str,
        params: Mapping[str, str],
        signature: str | None,
        client_host: str | None,
    ) -> bool:
        if self._verifier is None:
            return self._dev and _is_loopback(client_host)
        url = (
            media_stream_url(self._public_base, path)
            if path == MEDIA_PATH
            else public_url(self._public_base, path, query)
        )
        return self._verifier.verify(url, params, signature)


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _xml(body: str) -> Response[str]:
    return Response(body, media_type=XML)


def _gate(container: Container) -> TwilioGate:
    settings = container.settings()
    return TwilioGate(
        settings.twilio_auth_tokens, public_base=settings.public_base_url, dev=settings.dev
    )


def media_stream_handler(container: Container) -> MediaHandler:
    """`WS /twilio/media`: a signed stream of a call admitted by the voice webhook.

    Served on bare ASGI (see `entrypoints.http.media_stream`), not as a Litestar route.
    """
    settings = container.settings()
    gate = _gate(container)
    capacity = container.call_capacity()
    signature_header = SIGNATURE_HEADER.lower().encode("latin-1")

    async def media(socket: AsgiWebSocket) -> None:
        ok = gate.admits(
            path=MEDIA_PATH,
            query="",
            params={},
            signature=socket.header(signature_header),
            client_host=socket.client_host,
        )
        if not ok:
            log.warning("refused a media stream with a missing or forged signature")
            await socket.close(code=1008, reason="forbidden")
            return
        await socket.accept()
        try:
            leg = await TwilioCallLeg.open(
                socket,
                start_timeout_s=settings.media_start_timeout_s,
                idle_timeout_s=settings.media_idle_timeout_s,
            )
        except StreamNotStarted as exc:
            log.warning("media stream did not start: %s", exc)
            await socket.close(code=1008, reason="no start")
            return
        token = leg.custom_parameters.get("token", "")
        metrics = container.metrics()
        task = asyncio.current_task()
        live = False

        def claimed(call: Call) -> None:
            # Only a stream that presented its call's token is that call: a stray or
            # replayed one naming a live call must not take (or give back) its place.
            nonlocal live
            live = True
            metrics.active_calls.inc()
            capacity.stream_started(call.sid, task)

        try:
            with bind_call(leg.call_sid, stream_sid=leg.stream_sid):
                await container.answer_call()(leg, token, claimed=claimed)
        except asyncio.CancelledError:
            # The drain cancels calls that outlive it. The session has finalised the call:
            # this handler is done, and uvicorn is not to log a crash.
            log.info("call cancelled: the server is stopping")
        finally:
            if live:
                capacity.stream_ended(leg.call_sid)
                metrics.active_calls.dec()
            metrics.dropped_frames.inc(leg.malformed_frames + leg.duplicate_starts)

    return media


def twilio_router(container: Container) -> Router:
    """The webhooks (`/twilio/voice`, `/twilio/after-stream`, `/twilio/status`)."""
    settings = container.settings()
    gate = _gate(container)
    base = settings.public_base_url
    capacity = container.call_capacity()

    async def verified_form(request: Request[Any, Any, Any]) -> CallWebhookForm | None:
        """The request's call fields, cleaned, if its signature holds (checked over the
        raw form as Twilio sent it); None when it does not."""
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        ok = gate.admits(
            path=request.url.path,
            query=request.url.query,
            params=params,
            signature=request.headers.get(SIGNATURE_HEADER),
            client_host=request.client.host if request.client else None,
        )
        if not ok:
            log.warning("refused an unsigned or forged Twilio request to %s", request.url.path)
            return None
        return clean_call_webhook_form(params)

    def busy_twiml() -> str:
        desk = container.practice().front_desk_phone
        if desk:
            return twiml.dial(desk, BUSY + " " + CONNECTING)
        return twiml.busy(BUSY + " Please call back in a few minutes.")

    def after_stream_twiml(step: NextStep) -> str:
        desk = container.practice().front_desk_phone
        if step is NextStep.TRANSFER and desk:
            return twiml.dial(desk, CONNECTING)
        if step is NextStep.APOLOGISE:
            return twiml.dial(desk, SORRY + " " + CONNECTING) if desk else twiml.hang_up(SORRY)
        return twiml.hang_up()

    @post(VOICE_PATH, include_in_schema=False, status_code=200)
    async def voice(request: Request[Any, Any, Any]) -> Response[str]:
        form = await verified_form(request)
        if form is None:
            return Response("", status_code=HTTP_403_FORBIDDEN)
        if settings.deepgram_api_key is None:
            log.error("DEEPGRAM_API_KEY is not set: the call is turned away")
            container.metrics().calls_turned_away.labels("agent_not_configured").inc()
            return _xml(after_stream_twiml(NextStep.APOLOGISE))
        if form.call_sid is None:
            return Response("missing or invalid CallSid", status_code=400, media_type=TEXT)
        if not capacity.reserve(form.call_sid):
            reason = "draining" if capacity.draining else "at_capacity"
            log.warning("turning a call away: %s", reason)
            container.metrics().calls_turned_away.labels(reason).inc()
            return _xml(busy_twiml())
        incoming = IncomingCall(
            call_sid=form.call_sid, from_number=form.from_number, to_number=form.to_number
        )
        try:
            token = await container.admit_call()(incoming)
        except StreamRefused:
            return _xml(twiml.hang_up())
        except StorageUnavailable:
            log.error("database unavailable: the call is put through to the front desk")
            container.metrics().calls_turned_away.labels("storage_unavailable").inc()
            return _xml(after_stream_twiml(NextStep.APOLOGISE))
        stream = media_stream_url(base, MEDIA_PATH)
        after = public_url(base, AFTER_STREAM_PATH)
        return _xml(twiml.connect_stream(stream, after, {"token": token}))

    @post(AFTER_STREAM_PATH, include_in_schema=False, status_code=200)
    async def after_stream(request: Request[Any, Any, Any]) -> Response[str]:
        form = await verified_form(request)
        if form is None:
            return Response("", status_code=HTTP_403_FORBIDDEN)
        call_sid = form.call_sid
        if call_sid is None:
            return _xml(after_stream_twiml(NextStep.HANG_UP))  # as for any unknown call
        try:
            step = await container.next_step()(call_sid)
        except StorageUnavailable:
            step = NextStep.APOLOGISE  # the record is out of reach: a person can still help
        finally:
            capacity.handed_off(call_sid)
        return _xml(after_stream_twiml(step))

    # Declared 200 (Litestar allows no body on a 204 route) so a 400 can say what was wrong;
    # the answer to a good callback is still an explicit 204.
    @post(STATUS_PATH, include_in_schema=False, status_code=200)
    async def status(request: Request[Any, Any, Any]) -> Response[str | None]:
        form = await verified_form(request)
        if form is None:
            return Response("", status_code=HTTP_403_FORBIDDEN)
        if form.call_sid is None or form.call_status is None:
            problem = "missing or invalid CallSid or CallStatus"
            return Response(problem, status_code=400, media_type=TEXT)
        await container.record_call_status()(
            CallStatusReport(
                call_sid=form.call_sid, status=form.call_status, duration_s=form.duration_s
            )
        )
        return Response(None, status_code=HTTP_204_NO_CONTENT)

    return Router(path="/", route_handlers=[voice, after_stream, status])
