"""Twilio's call webhooks: the voice webhook, what comes after the media stream, and
status callbacks, in TwiML. Every request is signature-checked before anything
happens; only then are its fields cleaned (`clean_call_webhook_form`). What to do with
a call is decided by the carrier-neutral `CallGateway`.

A webhook whose CallSid is missing or not a Twilio call sid is not a call: the voice
webhook and status callbacks answer 400, after-stream hangs up (as for an unknown call)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Request, Response, Router, post
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_403_FORBIDDEN

from adapters.twilio import twiml
from adapters.twilio.signature import (
    SIGNATURE_HEADER,
    TwilioSignatureVerifier,
    media_stream_url,
    public_url,
)
from adapters.twilio.webhook_form import CallWebhookForm, clean_call_webhook_form
from application.calls.admission import CallStatusReport, IncomingCall
from entrypoints.http.telephony import Admitted, CallGateway, TurnedAway

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

VOICE_PATH, MEDIA_PATH = "/twilio/voice", "/twilio/media"
AFTER_STREAM_PATH, STATUS_PATH = "/twilio/after-stream", "/twilio/status"
XML, TEXT = MediaType.XML, MediaType.TEXT
CARRIER = "twilio"
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
"""Twilio's call statuses after which nothing more happens on the call."""


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


def twilio_gate(container: Container) -> TwilioGate:
    settings = container.settings()
    return TwilioGate(
        settings.twilio_auth_tokens, public_base=settings.public_base_url, dev=settings.dev
    )


def twilio_router(container: Container, gateway: CallGateway) -> Router:
    """The webhooks (`/twilio/voice`, `/twilio/after-stream`, `/twilio/status`)."""
    settings = container.settings()
    gate = twilio_gate(container)
    base = settings.public_base_url

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

    @post(VOICE_PATH, include_in_schema=False, status_code=200)
    async def voice(request: Request[Any, Any, Any]) -> Response[str]:
        form = await verified_form(request)
        if form is None:
            return Response("", status_code=HTTP_403_FORBIDDEN)
        if form.call_sid is None:
            return Response("missing or invalid CallSid", status_code=400, media_type=TEXT)
        incoming = IncomingCall(
            carrier=CARRIER,
            carrier_call_id=form.call_sid,
            from_number=form.from_number,
            to_number=form.to_number,
        )
        match await gateway.admit(incoming):
            case Admitted(token):
                stream = media_stream_url(base, MEDIA_PATH)
                after = public_url(base, AFTER_STREAM_PATH)
                return _xml(twiml.connect_stream(stream, after, {"token": token}))
            case TurnedAway(outcome):
                return _xml(twiml.render(outcome))

    @post(AFTER_STREAM_PATH, include_in_schema=False, status_code=200)
    async def after_stream(request: Request[Any, Any, Any]) -> Response[str]:
        form = await verified_form(request)
        if form is None:
            return Response("", status_code=HTTP_403_FORBIDDEN)
        return _xml(twiml.render(await gateway.after_stream(CARRIER, form.call_sid)))

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
        await gateway.record_status(
            CallStatusReport(
                carrier=CARRIER,
                carrier_call_id=form.call_sid,
                carrier_status=form.call_status,
                final=form.call_status in FINAL_STATUSES,
                duration_s=form.duration_s,
            )
        )
        return Response(None, status_code=HTTP_204_NO_CONTENT)

    return Router(path="/", route_handlers=[voice, after_stream, status])
