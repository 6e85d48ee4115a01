"""Telnyx's inbound-message webhook (`POST /telnyx/messages`): STOP and START from
patients. Verified with the same Ed25519 check as the TeXML webhooks (403 otherwise);
the opt-out itself is the `RecordOptOutHandler` use case. Other message events (sent,
finalized) are acknowledged and ignored."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Request, Response, Router, post
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_400_BAD_REQUEST, HTTP_403_FORBIDDEN

from adapters.system_clock import SystemClock
from adapters.telnyx.signature import TelnyxSignatureVerifier
from application.notifications import IncomingText
from domain.scheduling import InvalidInput

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

MESSAGES_PATH = "/telnyx/messages"


class NotAMessage(ValueError):
    """The body is not a Telnyx message event; the text says what is wrong."""


def incoming_text(raw: bytes) -> IncomingText | None:
    """The sender and text of a `message.received` event; None for other events.
    `NotAMessage` when the body is not Telnyx's event shape."""
    try:
        event = json.loads(raw)
        data = event["data"]
        kind = data["event_type"]
    except (ValueError, KeyError, TypeError):
        raise NotAMessage("not a Telnyx event (data.event_type missing)") from None
    if kind != "message.received":
        return None
    try:
        payload = data["payload"]
        sender, text = payload["from"]["phone_number"], payload.get("text") or ""
    except (KeyError, TypeError):
        raise NotAMessage("message.received without payload.from.phone_number") from None
    if not isinstance(sender, str) or not isinstance(text, str):
        raise NotAMessage("payload.from.phone_number and payload.text must be strings")
    return IncomingText(from_number=sender, body=text)


def telnyx_messages_router(container: Container, verifier: TelnyxSignatureVerifier) -> Router:
    clock = SystemClock()  # freshness against the wall clock, as for the call webhooks

    @post(MESSAGES_PATH, include_in_schema=False, status_code=200)
    async def incoming_message(request: Request[Any, Any, Any]) -> Response[str | None]:
        raw = await request.body()
        refusal = verifier.verify_headers(request.headers, raw, clock.now())
        if refusal is not None:
            log.warning("refused a Telnyx request to %s: %s", request.url.path, refusal)
            return Response("", status_code=HTTP_403_FORBIDDEN)
        try:
            text = incoming_text(raw)
            if text is not None:
                await container.record_opt_out()(text)
        except NotAMessage as exc:
            return Response(str(exc), status_code=HTTP_400_BAD_REQUEST, media_type=MediaType.TEXT)
        except InvalidInput:
            problem = "payload.from.phone_number is not a phone number"
            return Response(problem, status_code=HTTP_400_BAD_REQUEST, media_type=MediaType.TEXT)
        return Response(None, status_code=HTTP_204_NO_CONTENT)

    return Router(path="/", route_handlers=[incoming_message])
