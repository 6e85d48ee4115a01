"""A whole phone line for end-to-end call tests: the real server on a real port, a
Deepgram emulator behind it, and Twilio's side played by the simulator.

The server's public URL must name its own port before the settings are read (the
Twilio routes are built from them at `create_app` time), so the socket is bound
first and the container built from the resulting address.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import uvicorn
from dependency_injector import providers
from pydantic import SecretStr
from tests.support.api_practice import api_practice
from tests.support.api_server import API_KEY, NOW
from tests.support.clock import FixedClock
from tests.support.deepgram_emulator import DeepgramEmulator, Script
from tests.support.twilio_simulator import (
    CallIdentity,
    SimulatedCall,
    TwimlReply,
    call_params,
    new_call,
    parse_twiml,
    post_signed,
    post_status_callback,
    post_voice_webhook,
)

from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.settings import Settings

TWILIO_TOKEN = "tw-test"
DEEPGRAM_KEY = "dg-test"
FRONT_DESK = "+14155550100"
GOODBYE_TIMEOUT_S = 2.0


class _TimedEvent(asyncio.Event):
    """An `asyncio.Event` that notes (on the simulator's clock) when it was first set."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self._clock = clock
        self.set_at: float | None = None

    def set(self) -> None:
        if self.set_at is None:
            self.set_at = self._clock()
        super().set()


def closed_at(call: SimulatedCall) -> float:
    """When (seconds since connect, as `Received.at`) the stream's socket closed."""
    event = call.closed
    assert isinstance(event, _TimedEvent), "made by PhoneLine.stream"
    assert event.set_at is not None, "the stream is still open"
    return event.set_at


@dataclass
class PhoneLine:
    """One server, its Deepgram emulator, and helpers that act as Twilio would."""

    base_url: str
    emulator: DeepgramEmulator
    api: httpx.AsyncClient
    """Talks to the server; sends the REST API key (Twilio routes ignore it)."""

    async def ring(self, call: CallIdentity | None = None) -> tuple[CallIdentity, TwimlReply]:
        """The voice webhook for a new incoming call, signed; its TwiML parsed strictly."""
        call = call or new_call(from_number="+14155550123")
        response = await post_voice_webhook(
            self.api, f"{self.base_url}/twilio/voice", TWILIO_TOKEN, call
        )
        assert response.status_code == 200, response.text
        return call, parse_twiml(response.text)

    def stream(
        self,
        call: CallIdentity,
        reply: TwimlReply,
        *,
        token: str | None = None,
        signature: str | None = None,
    ) -> SimulatedCall:
        """The media stream Twilio opens for `reply`'s `<Connect><Stream>` (not connected)."""
        assert reply.stream_url is not None, f"no <Stream> in {reply}"
        parameters = dict(reply.stream_parameters)
        if token is not None:
            parameters["token"] = token
        sim = SimulatedCall(
            reply.stream_url,
            auth_token=TWILIO_TOKEN,
            custom_parameters=parameters,
            call=call,
            signature=signature,
        )
        sim.closed = _TimedEvent(lambda: sim.now)
        return sim

    async def dial_in(self, call: CallIdentity | None = None) -> SimulatedCall:
        """Ring, then connect the media stream the TwiML asks for."""
        call, reply = await self.ring(call)
        sim = self.stream(call, reply)
        await sim.connect()
        return sim

    async def after_stream(self, call: CallIdentity, reply_url: str | None = None) -> TwimlReply:
        """Twilio requesting the `<Connect action>` once our server closed the stream."""
        url = reply_url or f"{self.base_url}/twilio/after-stream"
        response = await post_signed(self.api, url, call_params(call, "in-progress"), TWILIO_TOKEN)
        assert response.status_code == 200, response.text
        return parse_twiml(response.text)

    async def completed(self, call: CallIdentity, duration_s: int = 12) -> None:
        response = await post_status_callback(
            self.api,
            f"{self.base_url}/twilio/status",
            TWILIO_TOKEN,
            call,
            call_status="completed",
            duration_s=duration_s,
        )
        assert response.status_code == 204, response.text

    async def call_record(self, call_sid: str) -> dict[str, Any]:
        response = await self.api.get(f"/api/v1/calls/{call_sid}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def phone_container(
    base_url: str,
    database_url: str,
    agent_url: str,
    *,
    deepgram_key: str | None,
    **settings: Any,
) -> Container:
    settings.setdefault("greeting_audio", False)  # the emulator's own greeting, unless told
    container = Container()
    container.settings.override(
        providers.Object(
            Settings(
                database_url=SecretStr(database_url),
                frontdesk_api_keys=[SecretStr(API_KEY)],
                public_url=base_url,
                twilio_auth_token=SecretStr(TWILIO_TOKEN),
                deepgram_api_key=SecretStr(deepgram_key) if deepgram_key else None,
                deepgram_agent_url=agent_url,
                goodbye_timeout_s=GOODBYE_TIMEOUT_S,
                **settings,
            )
        )
    )
    practice = replace(api_practice(), front_desk_phone=FRONT_DESK)
    container.practice.override(providers.Object(practice))
    container.clock.override(providers.Object(FixedClock(NOW)))
    return container


@asynccontextmanager
async def phone_line(
    database_url: str,
    script: Script | Callable[[int], Script] = (),
    *,
    deepgram_key: str | None = DEEPGRAM_KEY,
    record_audio: bool = False,
    agent_welcome_delay_s: float = 0.0,
    **settings: Any,
) -> AsyncIterator[PhoneLine]:
    """Emulator (its handshake taking `agent_welcome_delay_s`), then the server (in a
    thread, with its own event loop), then a client."""
    async with DeepgramEmulator(
        api_key=DEEPGRAM_KEY,
        script=script,
        record_audio=record_audio,
        welcome_delay_s=agent_welcome_delay_s,
    ) as emulator:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        container = phone_container(
            base_url, database_url, emulator.url, deepgram_key=deepgram_key, **settings
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(container), log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            async with httpx.AsyncClient(
                base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
            ) as api:
                await _until_healthy(api, thread)
                yield PhoneLine(base_url, emulator, api)
        finally:
            server.should_exit = True
            # Joined off the loop: the emulator serves on this loop and must keep
            # answering while the server closes its Deepgram sockets.
            await asyncio.to_thread(thread.join, 15)
            sock.close()


async def _until_healthy(api: httpx.AsyncClient, thread: threading.Thread) -> None:
    for _ in range(50):
        if not thread.is_alive():
            raise RuntimeError("the server thread died while starting")
        try:
            if (await api.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            continue
    raise RuntimeError("the server never became healthy")
