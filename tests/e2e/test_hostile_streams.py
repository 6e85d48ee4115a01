"""Hostile media streams against a real `frontdesk serve` process, while a healthy call
runs through it.

Hypothesis draws the hostile clients: signed, unsigned or forged handshakes, then frame
sequences of media before `start`, duplicate `start`s, tokens that are wrong, missing or
replayed, binary frames, broken JSON, wrong types, bad and huge base64, frames over the
server's WebSocket limit, floods, `stop` before `start`, marks nobody sent; then the
client waits for the server to close, or drops its TCP connection. The clients run in a
thread of their own (one event loop per example), so the healthy call, the Deepgram
emulator and the server keep going meanwhile. One server serves every example.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.e2e.phone_fixtures import DEEPGRAM_KEY, TWILIO_TOKEN
from tests.e2e.server_process import SAMPLE_FRONT_DESK, server_process
from tests.support.deepgram_emulator import (
    CallFunction,
    DeepgramEmulator,
    ExpectAudio,
    Say,
    Script,
    WaitForClose,
)
from tests.support.metrics_text import sample
from tests.support.twilio_simulator import SIGNATURE_HEADER, new_call, new_sid, sign
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from entrypoints.commands import MAX_WS_MESSAGE_BYTES

START_TIMEOUT_S = 0.5
"""MEDIA_START_TIMEOUT_S for the server: a socket that never starts is closed after it."""
CLOSE_BOUND_S = START_TIMEOUT_S + 4.0
"""However a hostile client behaves, the server has closed its socket within this."""
GREETING_BYTES = 1600
HEARD, GOODBYE = 0x21, 0x22
FLOOD_FRAMES = 2000
"""The healthy caller sends 40 s of audio as fast as the socket takes it (50x real time)."""


@pytest.fixture
def engine_name() -> str:
    return "postgres"


# --- hostile clients -----------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    handshake: str
    """"signed", "unsigned" or "forged"."""
    frames: tuple[tuple[str, Any], ...]
    finish: str
    """"wait" for the server to close, or "abort" the TCP connection."""


@dataclass(frozen=True)
class Target:
    """What the hostile clients know of the server and of the healthy call."""

    url: str
    call_sid: str
    token: str


def _frame(kind: str, arg: Any, target: Target, stream_sid: str) -> list[str | bytes]:
    def event(name: str, **fields: Any) -> str:
        body = {"event": name, "sequenceNumber": "1", "streamSid": stream_sid, **fields}
        return msgspec.json.encode(body).decode()

    match kind:
        case "connected":
            return [event("connected", protocol="Call", version="1.0.0")]
        case "start":
            who, token = arg
            call_sid = {"stranger": new_sid("CA"), "the healthy call": target.call_sid}.get(
                who, who
            )
            parameters = (
                {} if token is None else {"token": target.token if token == "replayed" else token}
            )
            start = {
                "accountSid": new_sid("AC"),
                "streamSid": stream_sid,
                "callSid": call_sid,
                "tracks": ["inbound"],
                "customParameters": parameters,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            }
            return [event("start", start=start)]
        case "media":
            return [event("media", media={"track": "inbound", "payload": arg})]
        case "flood":
            frame = event("media", media={"payload": base64.b64encode(b"\x7f" * 160).decode()})
            return [frame] * arg
        case "wrong types":
            return [event(arg[0], **{arg[0]: arg[1]})]
        case "binary" | "text":
            return [arg]
        case "oversize":
            return [event("media", media={"payload": "A" * (MAX_WS_MESSAGE_BYTES + 4)})]
        case "stop":
            return [event("stop", stop={})]
        case "mark":
            return [event("mark", mark={"name": arg})]
        case "dtmf":
            return [event("dtmf", dtmf={"digit": arg})]
    raise AssertionError(kind)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
_FRAMES = st.one_of(
    st.just(("connected", None)),
    st.tuples(
        st.just("start"),
        st.tuples(
            st.sampled_from(["stranger", "the healthy call"]) | st.text(max_size=40),
            st.sampled_from([None, "replayed", "not-the-token", ""]),
        ),
    ),
    st.tuples(
        st.just("media"),
        st.sampled_from(["f39/", "@@@@", "AAA", "", "A" * 60_000])
        | st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode())
        | _JSON,
    ),
    st.tuples(st.just("flood"), st.integers(1000, 4000)),
    st.tuples(
        st.just("wrong types"), st.tuples(st.sampled_from(["start", "media", "mark"]), _JSON)
    ),
    st.tuples(st.just("binary"), st.binary(max_size=300)),
    st.tuples(st.just("text"), st.text(max_size=100)),
    st.just(("oversize", None)),
    st.just(("stop", None)),
    st.tuples(st.just("mark"), st.sampled_from(["turn-1", "turn-99", "", "x" * 300])),
    st.tuples(st.just("dtmf"), st.sampled_from(["1", "", "##"])),
)
_HOSTILE = st.builds(
    Hostile,
    st.sampled_from(["signed", "signed", "signed", "unsigned", "forged"]),
    st.lists(_FRAMES, max_size=6).map(tuple),
    st.sampled_from(["wait", "wait", "abort"]),
)
_STARTED = (("connected", None),)


async def _attack(target: Target, hostile: Hostile) -> None:
    headers = {
        "signed": {SIGNATURE_HEADER: sign(target.url, {}, TWILIO_TOKEN)},
        "unsigned": {},
        "forged": {SIGNATURE_HEADER: sign(target.url, {}, "not-the-auth-token")},
    }[hostile.handshake]
    if hostile.handshake != "signed":
        with pytest.raises(InvalidStatus) as refused:
            await connect(target.url, additional_headers=headers, open_timeout=CLOSE_BOUND_S)
        assert refused.value.response.status_code == 403
        return
    ws: ClientConnection = await connect(
        target.url, additional_headers=headers, compression=None, open_timeout=CLOSE_BOUND_S
    )
    stream_sid = new_sid("MZ")
    try:
        for kind, arg in hostile.frames:
            for frame in _frame(kind, arg, target, stream_sid):
                await ws.send(frame)
    except ConnectionClosed:
        pass  # the server has had enough: it closed the socket
    if hostile.finish == "abort":
        ws.transport.abort()
        return
    async with asyncio.timeout(CLOSE_BOUND_S):
        await ws.wait_closed()
    # Closed by the server, on purpose: refused (1000), no start (1008), too big (1009).
    # After a frame over its limit the server closes the TCP connection right behind its
    # 1009, so frames the client still sends may reset it before the 1009 is read (1006).
    expected = {1000, 1008, 1009}
    if any(kind == "oversize" for kind, _ in hostile.frames):
        expected.add(1006)
    assert ws.close_code in expected, (ws.close_code, hostile)


def _attack_in_examples(target: Target) -> None:
    """Run the hostile examples (a few clients at once in each), on this thread's loops."""

    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @example(
        [
            Hostile("signed", (("start", ("the healthy call", "not-the-token")),), "wait"),
            Hostile("signed", (("start", ("the healthy call", "replayed")),), "wait"),
            Hostile("signed", (("start", ("stranger", None)),), "wait"),
            Hostile("signed", (), "wait"),  # connects and never says a word
            Hostile("signed", (*_STARTED, ("oversize", None)), "wait"),
            Hostile("signed", (("media", "AAAA"), ("flood", 3000), ("stop", None)), "wait"),
            Hostile("signed", (("start", ("stranger", "x")), ("start", ("stranger", ""))), "wait"),
            Hostile("signed", (("binary", b"\x00\xff"), ("text", "{")), "abort"),
            Hostile("signed", (("start", ("CA\x00", "x")), ("start", ("CA" * 3000, "x"))), "wait"),
            Hostile("unsigned", (), "wait"),
            Hostile("forged", (), "wait"),
        ]
    )
    @given(st.lists(_HOSTILE, min_size=1, max_size=4))
    def attack(hostiles: list[Hostile]) -> None:
        async def together() -> None:
            await asyncio.gather(*(_attack(target, h) for h in hostiles))

        asyncio.run(together())

    attack()


# --- the test --------------------------------------------------------------------------


async def test_hostile_media_streams_harm_neither_the_server_nor_a_healthy_call(
    database_url: str, tmp_path: Path
) -> None:
    script: Script = [
        ExpectAudio(FLOOD_FRAMES * 160),
        Say("Got all of that.", audio_bytes=1600, fill=HEARD),
        ExpectAudio(FLOOD_FRAMES * 160 + 160),
        CallFunction("end_call"),
        Say("Goodbye!", audio_bytes=1600, fill=GOODBYE),
        WaitForClose(),
    ]
    async with (
        DeepgramEmulator(api_key=DEEPGRAM_KEY, script=script, record_audio=True) as emulator,
        server_process(
            database_url,
            emulator,
            tmp_path / "server.log",
            MEDIA_START_TIMEOUT_S=str(START_TIMEOUT_S),
            MAX_CONCURRENT_CALLS="1",
            MEDIA_IDLE_TIMEOUT_S="60",  # the healthy caller is quiet while the attacks run
        ) as server,
    ):
        line = server.line
        call, reply = await line.ring(new_call(from_number="+14155550123"))
        healthy = line.stream(call, reply)
        await healthy.connect()
        await healthy.wait_for_audio(GREETING_BYTES)
        assert reply.stream_url is not None
        target = Target(reply.stream_url, call.call_sid, reply.stream_parameters["token"])

        attacks = asyncio.create_task(asyncio.to_thread(_attack_in_examples, target))
        spoken = bytes(i % 251 for i in range(FLOOD_FRAMES * 160))
        await healthy.send_audio(spoken)  # a flood too, but a legitimate one, in order
        await healthy.wait_for_audio(GREETING_BYTES + 1600, timeout_s=10)
        await asyncio.wait_for(attacks, 120)

        # The healthy call still holds the instance's only place: a new call is turned away.
        _, busy = await line.ring(new_call(from_number="+14155550124"))
        assert busy.stream_url is None
        assert busy.dial_number == SAMPLE_FRONT_DESK

        # Junk on the healthy stream itself is skipped: a second start, a mark never
        # sent, broken JSON, a media frame with bad base64.
        await healthy.send_start()
        await healthy.send_raw('{"event":"mark","streamSid":"MZ0","mark":{"name":"turn-99"}}')
        await healthy.send_raw('{"event":"media","media":{"payload":"@@"}}')
        await healthy.send_raw("{not json")
        await healthy.send_audio(b"\x01" * 160)  # the caller's last word: the agent ends it
        await healthy.wait_closed(10)
        assert bytes(healthy.audio) == (
            b"\xff" * GREETING_BYTES + bytes([HEARD]) * 1600 + bytes([GOODBYE]) * 1600
        )
        assert healthy.clears == []
        healthy.assert_no_violations()
        assert (await line.after_stream(call)).verbs == ("Hangup",)
        record = await line.call_record(call.call_sid)
        assert record["call"]["end_reason"] == "agent_ended"
        _, admitted = await line.ring(new_call(from_number="+14155550125"))
        assert admitted.stream_url is not None  # its place is free again

        (session,) = emulator.sessions  # no stream without its call's token reached Deepgram
        assert emulator.rejected_handshakes == 0
        await session.wait_closed()
        assert session.audio == spoken + b"\x01" * 160

        assert (await line.api.get("/healthz")).status_code == 200
        ready = await line.api.get("/readyz")
        assert ready.status_code == 200, ready.text
        metrics = (await line.api.get("/metrics")).text
        assert sample(metrics, "frontdesk_active_calls") == 0
        assert server.process.returncode is None
    log = server.log()
    assert "media stream handler failed" not in log
    assert "Traceback" not in log
