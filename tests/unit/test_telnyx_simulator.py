"""The Telnyx simulator signs as Telnyx does and flags what Telnyx would refuse."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from websockets.asyncio.server import ServerConnection, serve

from tests.support.telnyx_simulator import (
    SimulatedCall,
    TelnyxKeys,
    new_call,
    post_status_callback,
    post_voice_webhook,
)


async def test_webhooks_are_form_encoded_and_signed_over_the_exact_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="<Response/>")

    keys, call = TelnyxKeys(), new_call()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await post_voice_webhook(client, "https://example.com/telnyx/voice", keys, call)
        await post_status_callback(
            client, "https://example.com/telnyx/status", keys, call, duration_s=42
        )
    voice, status = seen
    form = dict(httpx.QueryParams(voice.content.decode()))
    assert (form["CallSid"], form["CallStatus"]) == (call.call_sid, "ringing")
    assert call.call_sid.startswith("v3:")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys.public_key_b64))
    stamp = voice.headers["telnyx-timestamp"]
    signature = base64.b64decode(voice.headers["telnyx-signature-ed25519"])
    key.verify(signature, stamp.encode() + b"|" + voice.content)  # raises if not
    assert dict(httpx.QueryParams(status.content.decode()))["CallDuration"] == "42"


@pytest.fixture
async def rude_server() -> AsyncIterator[str]:
    """Answers `start` with what Telnyx would reject."""

    async def handler(connection: ServerConnection) -> None:
        async for message in connection:
            if json.loads(message)["event"] == "start":
                await connection.send('{"event":"media","media":{"payload":"AAAA"}}')  # 3 bytes
                await connection.send('{"event":"media","streamSid":"MZ1","media":{"payload":""}}')
                await connection.send('{"event":"media","media":{"payload":"@@"}}')
                await connection.send('{"event":"speak","text":"hi"}')
                await connection.send(b"\x00\x01")
                await connection.send('{"event":"clear"}')

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/telnyx/media"


async def test_messages_telnyx_would_reject_are_violations(rude_server: str) -> None:
    async with SimulatedCall(
        "wss://h.example/telnyx/media?call=x", connect_url=rude_server
    ) as call:
        await call.wait_for_clears()
        assert len(call.violations) == 5
        with pytest.raises(AssertionError, match="protocol violations"):
            call.assert_no_violations()
