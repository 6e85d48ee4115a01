"""`DeepgramVoiceAgent` against the strict Deepgram emulator on a real socket."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence

import pytest
from websockets.asyncio.server import ServerConnection, serve

from adapters.deepgram import DeepgramAgentConnection, DeepgramVoiceAgent
from application.ports import TELEPHONE_AUDIO
from application.ports.voice import (
    AgentAudio,
    AgentAudioDone,
    AgentEvent,
    AgentFailed,
    AgentReady,
    AgentStartedSpeaking,
    AgentUnavailable,
    ToolCallRequested,
    Transcript,
    UserStartedSpeaking,
)
from tests.support.agent_profile import a_profile
from tests.support.deepgram_emulator import (
    AwaitUserMessage,
    CallFunction,
    DeepgramEmulator,
    Drop,
    ExpectAudio,
    Say,
    Script,
    SendError,
    SendRaw,
    UserSays,
    WaitForClose,
)

KEY = "test-key-123"


async def next_event(events: AsyncIterator[AgentEvent]) -> AgentEvent:
    return await asyncio.wait_for(anext(events), 5)


async def events_until(
    events: AsyncIterator[AgentEvent], last: type[AgentEvent]
) -> list[AgentEvent]:
    seen: list[AgentEvent] = []
    while not seen or not isinstance(seen[-1], last):
        seen.append(await next_event(events))
    return seen


async def rest_of(events: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    async with asyncio.timeout(5):
        return [event async for event in events]


async def open_call(
    script: Script, *, record_audio: bool = False, keepalive_interval_s: float = 5.0
) -> tuple[DeepgramEmulator, DeepgramAgentConnection]:
    emulator = DeepgramEmulator(api_key=KEY, script=script, record_audio=record_audio)
    await emulator.__aenter__()
    agent = DeepgramVoiceAgent(emulator.url, KEY, keepalive_interval_s=keepalive_interval_s)
    return emulator, await agent.connect(a_profile(), TELEPHONE_AUDIO)


@pytest.fixture
async def emulator_factory() -> AsyncIterator[list[DeepgramEmulator]]:
    started: list[DeepgramEmulator] = []
    yield started
    for emulator in started:
        await emulator.__aexit__(None, None, None)


async def call(
    started: list[DeepgramEmulator], script: Sequence[object] = (), **options: object
) -> tuple[DeepgramEmulator, DeepgramAgentConnection]:
    emulator, connection = await open_call(script, **options)  # type: ignore[arg-type]
    started.append(emulator)
    return emulator, connection


async def test_accepted_settings_make_the_agent_ready(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator, connection = await call(emulator_factory)
    events = connection.events()
    assert await next_event(events) == AgentReady()
    session = await emulator.session(0)
    assert session.settings is not None
    assert session.errors_sent == []
    await connection.close()


async def test_audio_sent_before_settings_applied_arrives_complete_and_in_order(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator, connection = await call(emulator_factory, record_audio=True)
    frames = [bytes([n]) * 160 for n in range(20)]
    for frame in frames[:10]:
        await connection.send_audio(frame)  # before SettingsApplied was read
    events = connection.events()
    assert await next_event(events) == AgentReady()
    for frame in frames[10:]:
        await connection.send_audio(frame)
    session = await emulator.session(0)
    await session.wait_until(lambda: session.audio_bytes >= 3200)
    assert session.audio == b"".join(frames)
    assert connection.dropped_audio_bytes == 0
    await connection.close()


async def test_audio_buffered_past_the_limit_drops_the_oldest_frames(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator = DeepgramEmulator(api_key=KEY, record_audio=True)
    await emulator.__aenter__()
    emulator_factory.append(emulator)
    agent = DeepgramVoiceAgent(emulator.url, KEY, audio_buffer_limit_bytes=480)
    connection = await agent.connect(a_profile(), TELEPHONE_AUDIO)
    frames = [bytes([n]) * 160 for n in range(5)]
    for frame in frames:
        await connection.send_audio(frame)
    assert await next_event(connection.events()) == AgentReady()
    session = await emulator.session(0)
    await session.wait_until(lambda: session.audio_bytes >= 480)
    assert session.audio == b"".join(frames[2:])
    assert connection.dropped_audio_bytes == 320
    await connection.close()


async def test_a_scripted_reply_yields_its_audio_then_audio_done(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    script = [ExpectAudio(320), UserSays("Hello?"), Say("Hi there.", audio_bytes=2000)]
    _, connection = await call(emulator_factory, script)
    events = connection.events()
    assert await next_event(events) == AgentReady()
    await connection.send_audio(b"\x7f" * 320)
    seen = await events_until(events, AgentAudioDone)
    assert seen[:3] == [
        UserStartedSpeaking(),
        Transcript(role="user", text="Hello?"),
        AgentStartedSpeaking(total_latency_s=0.25),
    ]
    assert seen[3] == Transcript(role="assistant", text="Hi there.")
    audio = seen[4:-1]
    assert all(isinstance(event, AgentAudio) for event in audio)
    assert sum(len(event.payload) for event in audio if isinstance(event, AgentAudio)) == 2000
    await connection.close()


async def test_audio_that_arrived_together_comes_as_one_chunk_in_order(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    # The emulator writes a reply's three chunks (800 + 800 + 400 bytes) and then
    # AgentAudioDone without yielding to the loop, so all four are waiting when the
    # reader looks: the audio is joined into one event, the text message stays apart.
    script = [ExpectAudio(160), Say("One moment.", audio_bytes=2000, fill=0x55)]
    _, connection = await call(emulator_factory, script)
    events = connection.events()
    assert await next_event(events) == AgentReady()
    await connection.send_audio(b"\x7f" * 160)
    seen = await events_until(events, AgentAudioDone)
    assert seen[:2] == [
        AgentStartedSpeaking(total_latency_s=0.25),
        Transcript(role="assistant", text="One moment."),
    ]
    assert seen[2:] == [AgentAudio(b"\x55" * 2000), AgentAudioDone()]
    await connection.close()


async def test_the_greeting_is_spoken_first(emulator_factory: list[DeepgramEmulator]) -> None:
    emulator = DeepgramEmulator(api_key=KEY)
    await emulator.__aenter__()
    emulator_factory.append(emulator)
    connection = await DeepgramVoiceAgent(emulator.url, KEY).connect(
        a_profile("Hello!"), TELEPHONE_AUDIO
    )
    seen = await events_until(connection.events(), AgentAudioDone)
    assert seen[:2] == [AgentReady(), Transcript(role="assistant", text="Hello!")]
    await connection.close()


async def test_a_function_call_round_trip_keeps_its_id(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    script = [CallFunction("find_open_slots", '{"day": "2025-06-03"}'), Say("Nine works.")]
    emulator, connection = await call(emulator_factory, script)
    events = connection.events()
    assert await next_event(events) == AgentReady()
    request = await next_event(events)
    assert isinstance(request, ToolCallRequested)
    assert (request.name, request.arguments) == ("find_open_slots", '{"day": "2025-06-03"}')
    await connection.send_tool_result(request.call_id, request.name, '{"slots": ["09:00"]}')
    seen = await events_until(events, AgentAudioDone)
    assert Transcript(role="assistant", text="Nine works.") in seen
    session = await emulator.session(0)
    [response] = session.function_responses
    assert (response.id, response.content) == (request.call_id, '{"slots": ["09:00"]}')
    assert session.errors_sent == []
    await connection.close()


async def test_server_side_function_calls_are_not_handed_to_us(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    server_side = (
        '{"type":"FunctionCallRequest","functions":[{"id":"s1","name":"web",'
        '"arguments":"{}","client_side":false}]}'
    )
    _, connection = await call(emulator_factory, [SendRaw(server_side), Say("Done.")])
    seen = await events_until(connection.events(), AgentAudioDone)
    assert not any(isinstance(event, ToolCallRequested) for event in seen)
    await connection.close()


async def test_an_unknown_message_type_is_ignored(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    script = [SendRaw('{"type":"BrandNewThing","x":1}'), SendRaw("{not json"), Say("Still here.")]
    _, connection = await call(emulator_factory, script)
    seen = await events_until(connection.events(), AgentAudioDone)
    assert seen[0] == AgentReady()
    assert Transcript(role="assistant", text="Still here.") in seen
    assert not any(isinstance(event, AgentFailed) for event in seen)
    await connection.close()


async def test_a_server_drop_yields_agent_failed_and_ends_the_events(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    _, connection = await call(emulator_factory, [Drop()])
    seen = await rest_of(connection.events())
    assert seen[0] == AgentReady()
    assert isinstance(seen[-1], AgentFailed)
    assert "1006" in seen[-1].reason
    assert KEY not in seen[-1].reason
    await connection.send_audio(b"\xff" * 160)  # silently dropped
    await connection.send_tool_result("x", "y", "{}")
    await connection.close()


async def test_an_error_is_fatal_even_when_the_service_leaves_the_socket_open(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator, connection = await call(
        emulator_factory, [Say("Hello."), SendError("model crashed", "INTERNAL_SERVER_ERROR")]
    )
    seen = await rest_of(connection.events())
    assert Transcript(role="assistant", text="Hello.") in seen
    assert isinstance(seen[-1], AgentFailed)
    assert "INTERNAL_SERVER_ERROR" in seen[-1].reason
    await (await emulator.session(0)).wait_closed()
    await connection.close()


async def test_our_close_ends_the_events_without_failure_or_leftover_tasks(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator, connection = await call(emulator_factory, [WaitForClose()])
    events = connection.events()
    assert await next_event(events) == AgentReady()
    rest = asyncio.create_task(rest_of(events))
    await asyncio.sleep(0)  # let the consumer block on the socket
    await connection.close()
    assert await rest == []
    session = await emulator.session(0)
    await session.wait_closed()
    assert not [task for task in asyncio.all_tasks() if "deepgram-keepalive" in task.get_name()]


async def test_a_wrong_key_is_unavailable_without_revealing_the_key(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator = DeepgramEmulator(api_key=KEY)
    await emulator.__aenter__()
    emulator_factory.append(emulator)
    with pytest.raises(AgentUnavailable, match="401") as raised:
        await DeepgramVoiceAgent(emulator.url, "wrong-key").connect(a_profile(), TELEPHONE_AUDIO)
    assert "wrong-key" not in str(raised.value)
    assert emulator.rejected_handshakes == 1


async def test_an_unreachable_url_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = DeepgramVoiceAgent(f"ws://127.0.0.1:{port}/v1/agent/converse", KEY)
    with pytest.raises(AgentUnavailable, match="unreachable"):
        await agent.connect(a_profile(), TELEPHONE_AUDIO)


async def test_a_server_that_never_says_welcome_is_unavailable_within_the_timeout() -> None:
    async def silent(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with serve(silent, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        agent = DeepgramVoiceAgent(f"ws://127.0.0.1:{port}", KEY, connect_timeout_s=0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AgentUnavailable, match=r"within 0\.2s"):
            await agent.connect(a_profile(), TELEPHONE_AUDIO)
        assert loop.time() - started < 1.0


async def test_keepalive_is_sent_while_no_audio_flows(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator, connection = await call(emulator_factory, keepalive_interval_s=0.02)
    session = await emulator.session(0)
    await session.wait_until(lambda: session.keepalives >= 2)
    assert session.errors_sent == []
    await connection.close()


async def test_an_injected_message_reaches_the_agent(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator, connection = await call(emulator_factory)
    events = connection.events()
    assert await next_event(events) == AgentReady()
    await connection.inject_message("Goodbye!")
    seen = await events_until(events, AgentAudioDone)
    assert Transcript(role="assistant", text="Goodbye!") in seen
    session = await emulator.session(0)
    assert session.injected_agent_messages == ["Goodbye!"]
    await connection.close()


async def test_the_callers_words_as_text_go_out_as_inject_user_message_and_come_back_heard(
    emulator_factory: list[DeepgramEmulator],
) -> None:
    emulator, connection = await call(
        emulator_factory, [AwaitUserMessage(1), Say("Happy to help."), WaitForClose()]
    )
    events = connection.events()
    assert await next_event(events) == AgentReady()

    await connection.send_caller_text("I'd like a cleaning.")

    seen = await events_until(events, AgentAudioDone)
    session = await emulator.session(0)
    assert session.injected_user_messages == ["I'd like a cleaning."]
    assert session.errors_sent == []
    assert Transcript(role="user", text="I'd like a cleaning.") in seen
    assert seen.index(Transcript(role="user", text="I'd like a cleaning.")) < seen.index(
        Transcript(role="assistant", text="Happy to help.")
    )
    await connection.close()
