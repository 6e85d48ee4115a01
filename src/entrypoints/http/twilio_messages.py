"""Twilio's incoming-message webhook (`POST /twilio/messages`): STOP and START from
patients. Signature-checked exactly as the call webhooks are (403 otherwise); the
opt-out itself is the `RecordOptOutHandler` use case."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Request, Response, Router, post
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_403_FORBIDDEN

from adapters.twilio import twiml
from adapters.twilio.signature import SIGNATURE_HEADER
from application.notifications import IncomingText
from domain.scheduling import InvalidInput
from entrypoints.http.twilio_webhooks import twilio_gate

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

MESSAGES_PATH = "/twilio/messages"


def twilio_messages_router(container: Container) -> Router:
    gate = twilio_gate(container)

    @post(MESSAGES_PATH, include_in_schema=False, status_code=200)
    async def incoming_message(request: Request[Any, Any, Any]) -> Response[str]:
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        admitted = gate.admits(
            path=request.url.path,
            query=request.url.query,
            params=params,
            signature=request.headers.get(SIGNATURE_HEADER),
            client_host=request.client.host if request.client else None,
        )
        if not admitted:
            log.warning("refused an unsigned or forged Twilio request to %s", request.url.path)
            return Response("", status_code=HTTP_403_FORBIDDEN)
        sender, body = params.get("From", ""), params.get("Body")
        if not sender or body is None:
            problem = "missing From or Body"
            return Response(problem, status_code=HTTP_400_BAD_REQUEST, media_type=MediaType.TEXT)
        try:
            await container.record_opt_out()(IncomingText(from_number=sender, body=body))
        except InvalidInput:
            problem = "From is not a phone number"
            return Response(problem, status_code=HTTP_400_BAD_REQUEST, media_type=MediaType.TEXT)
        return Response(twiml.no_reply(), media_type=MediaType.XML)

    return Router(path="/", route_handlers=[incoming_message])
