"""`WS /twilio/media`: a signed Twilio Media Stream of a call admitted by the voice
webhook, run as that call. Served on bare ASGI (see `entrypoints.http.media_stream`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from adapters.twilio.call_leg import StreamNotStarted, TwilioCallLeg
from adapters.twilio.signature import SIGNATURE_HEADER
from entrypoints.http.media_stream import AsgiWebSocket, MediaHandler
from entrypoints.http.telephony import CallGateway
from entrypoints.http.twilio_webhooks import MEDIA_PATH, twilio_gate

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)


def twilio_media_handler(container: Container, gateway: CallGateway) -> MediaHandler:
    settings = container.settings()
    gate = twilio_gate(container)
    metrics = container.metrics()
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
        try:
            token = leg.custom_parameters.get("token", "")
            await gateway.run_stream(leg, token, stream_sid=leg.stream_sid)
        finally:
            metrics.dropped_frames.inc(leg.malformed_frames + leg.duplicate_starts)

    return media
