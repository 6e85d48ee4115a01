"""`frontdesk dev-client` against a real server, with Deepgram emulated: the server must
not be able to tell the client from Twilio. Every wait is on an event."""

from __future__ import annotations

import array
import asyncio
import io
import json
import math
import uuid
import wave
from pathlib import Path

import pytest
from tests.e2e.phone_fixtures import TWILIO_TOKEN, PhoneLine, phone_line
from tests.support.api_server import API_KEY
from tests.support.deepgram_emulator import (
    CallFunction,
    ExpectAudio,
    Say,
    Script,
    UserSays,
    WaitForClose,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from entrypoints.dev_client.audio import wav_to_mulaw
from entrypoints.dev_client.client import BytesSource, DevCall, DevCallOptions, DevClientError
from entrypoints.dev_client.command import dev_call
from entrypoints.dev_client.feed import (
    BargeInEvent,
    EndedEvent,
    ToolEvent,
    TranscriptEvent,
    events_url,
)

CALL_TIMEOUT_S = 20
LONG_FILL, NEXT_FILL = 0x11, 0x22


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def stereo_wav(tmp_path: Path) -> Path:
    """Half a second of a 300 Hz tone, 16 kHz stereo 16-bit: what a user might record."""
    path = tmp_path / "caller.wav"
    rate_hz = 16000
    tone = [round(9000 * math.sin(2 * math.pi * 300 * i / rate_hz)) for i in range(rate_hz // 2)]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(array.array("h", [s for s in tone for _ in range(2)]).tobytes())
    return path


def options(line: PhoneLine, *, auth_token: str = TWILIO_TOKEN) -> DevCallOptions:
    return DevCallOptions(server_url=line.base_url, auth_token=auth_token, api_key=API_KEY)


def read_stereo(path: Path) -> tuple[list[int], list[int]]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = array.array("h", wav.readframes(wav.getnframes()))
    return list(frames[0::2]), list(frames[1::2])


async def test_a_wav_call_completes_a_scripted_call_and_records_both_sides(
    database_url: str, stereo_wav: Path, tmp_path: Path
) -> None:
    script: Script = [
        ExpectAudio(4000),  # the whole WAV: 0.5 s of 8 kHz mu-law
        UserSays("I'd like a cleaning, please."),
        CallFunction("check_available_slots", json.dumps({"service": "cleaning"})),
        Say("We have a slot on Monday.", audio_bytes=1600, fill=NEXT_FILL),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    recording = tmp_path / "call.wav"
    out = io.StringIO()
    async with phone_line(database_url, script, record_audio=True) as line:
        result = await asyncio.wait_for(
            dev_call(options(line), wav=stereo_wav, record=recording, out=out), CALL_TIMEOUT_S
        )
        session = await line.emulator.session(0)
        await session.wait_closed()
        assert session.script_error is None
        # What reached the agent is the WAV, converted, byte for byte: a signed
        # handshake, a valid start, and media frames the server took as Twilio's.
        assert session.audio is not None
        assert bytes(session.audio).startswith(wav_to_mulaw(stereo_wav))
        assert [r.name for r in session.function_responses] == ["check_available_slots", "end_call"]
        record = await line.call_record(result.call_sid)
        assert record["call"]["end_reason"] == "agent_ended"

    assert not result.hung_up
    assert result.next_step is not None
    assert result.next_step.describe() == "hang up"
    assert result.marks_echoed  # the goodbye's mark came back, so the server let go
    spoken = [(e.speaker, e.text) for e in result.events if isinstance(e, TranscriptEvent)]
    assert ("caller", "I'd like a cleaning, please.") in spoken
    assert ("agent", "We have a slot on Monday.") in spoken
    tools = [e for e in result.events if isinstance(e, ToolEvent)]
    assert [t.name for t in tools] == ["check_available_slots", "end_call"]
    assert all(t.outcome and t.duration_ms >= 0 for t in tools)
    assert result.events[-1] == EndedEvent(reason="agent_ended", next_step="hang_up")
    assert "caller: I'd like a cleaning, please." in out.getvalue()
    assert "next: hang up" in out.getvalue()

    caller, agent = read_stereo(recording)
    assert len(caller) == len(agent) == len(result.caller_audio)
    assert max(caller[:4000]) > 8000  # the tone, at the start of the left channel
    assert max(abs(s) for s in caller[4200:]) < 100  # then the line is quiet
    assert bytes(result.agent_audio).count(NEXT_FILL) == 1600
    assert max(abs(s) for s in agent) > 0  # the agent's audio, on the right


async def test_clear_from_the_server_drops_the_clients_queued_playback_at_once(
    database_url: str,
) -> None:
    script: Script = [
        # 1 s into the call, as the client keeps time (by then any audio the server held
        # while it reached the agent has come through), the agent starts a 2 s turn;
        # 0.2 s into it, the caller speaks up.
        ExpectAudio(8000),
        Say("Let me tell you all about our opening hours.", audio_bytes=16000, fill=LONG_FILL),
        ExpectAudio(9600),
        UserSays("Sorry, just one question."),
        Say("Of course, go ahead.", audio_bytes=1600, fill=NEXT_FILL),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line:
        source = BytesSource(b"")
        result = await asyncio.wait_for(
            DevCall(options(line), source, out=io.StringIO()).run(), CALL_TIMEOUT_S
        )
    agent = bytes(result.agent_audio)
    assert result.clears == 1
    played_long = agent.count(LONG_FILL)
    assert 0 < played_long < 8000  # the cut, in the recording: most of the 2 s never played
    assert result.cleared_bytes >= 16000 - played_long
    assert agent.count(NEXT_FILL) == 1600
    assert agent.rindex(LONG_FILL) < agent.index(NEXT_FILL)
    assert any(isinstance(e, BargeInEvent) for e in result.events)


async def test_ctrl_c_hangs_up_with_a_stop_and_the_call_ends_as_the_callers(
    database_url: str,
) -> None:
    async with phone_line(database_url, [Say("Hello, how can I help?"), WaitForClose()]) as line:
        hang_up = asyncio.Event()
        call = DevCall(options(line), BytesSource(b""), out=io.StringIO())
        running = asyncio.create_task(call.run(hang_up))
        session = await line.emulator.session(0)
        await session.wait_until(lambda: session.audio_bytes >= 1600)  # audio flows end to end
        hang_up.set()
        result = await asyncio.wait_for(running, CALL_TIMEOUT_S)
        await session.wait_closed()
        record = await line.call_record(result.call_sid)
    assert result.hung_up
    assert result.next_step is None  # Twilio asks for no next step once the caller left
    assert record["call"]["end_reason"] == "caller_hung_up"
    assert result.events[-1] == EndedEvent(reason="caller_hung_up", next_step="hang_up")


async def test_a_client_with_the_wrong_auth_token_is_refused(database_url: str) -> None:
    async with phone_line(database_url, [Say("Hello."), WaitForClose()]) as line:
        call = DevCall(options(line, auth_token="not-the-token"), BytesSource(b""))
        with pytest.raises(DevClientError, match="403"):
            await call.run()
        assert line.emulator.sessions == []


async def test_the_events_feed_refuses_a_subscriber_without_a_valid_api_key(
    database_url: str,
) -> None:
    async with phone_line(database_url) as line:
        url = events_url(line.base_url, str(uuid.uuid4()))
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            with pytest.raises(InvalidStatus):
                await connect(url, additional_headers=headers)
        authorised = {"Authorization": f"Bearer {API_KEY}"}
        async with connect(url, additional_headers=authorised):
            pass
        unknown = events_url(line.base_url, "CA" + "0" * 32)
        async with connect(unknown, additional_headers=authorised) as feed:
            with pytest.raises(ConnectionClosed) as closed:
                await feed.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4404, "No call with that id.")


async def test_a_refused_call_records_nothing_and_says_so(
    database_url: str, stereo_wav: Path, tmp_path: Path
) -> None:
    recording, out = tmp_path / "call.wav", io.StringIO()
    async with phone_line(database_url, [Say("Hello."), WaitForClose()]) as line:
        with pytest.raises(DevClientError, match="403"):
            await dev_call(
                options(line, auth_token="not-the-token"),
                wav=stereo_wav,
                record=recording,
                out=out,
            )
    assert not recording.exists()  # not an empty WAV that looks like a recording
    assert out.getvalue() == (
        f"-- nothing recorded: the call ended before any audio flowed, so {recording} was "
        "not written -> see the error above and the server's log\n"
    )


async def test_a_call_where_the_agent_never_spoke_is_recorded_and_says_so(
    database_url: str, tmp_path: Path
) -> None:
    recording, out = tmp_path / "call.wav", io.StringIO()
    quiet = tmp_path / "quiet.wav"
    with wave.open(str(quiet), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(bytes(1600))
    async with phone_line(database_url, [WaitForClose()]) as line:
        hang_up = asyncio.Event()
        running = asyncio.create_task(
            dev_call(options(line), wav=quiet, record=recording, out=out, hang_up=hang_up)
        )
        session = await line.emulator.session(0)
        await session.wait_until(lambda: session.audio_bytes >= 1600)  # the caller is heard
        hang_up.set()
        await asyncio.wait_for(running, CALL_TIMEOUT_S)
    caller, agent = read_stereo(recording)
    assert len(caller) >= 1600
    assert not any(agent)
    assert "but the agent never spoke -> see the server's log" in out.getvalue()
