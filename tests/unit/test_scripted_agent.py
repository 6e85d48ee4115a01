"""The scripted voice agent's parts: its script file, day names, placeholders, its tone,
and one conversation played against in-memory tools (no session, no sockets)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from adapters.practice_file import load_practice
from adapters.scripted import LABEL, ScriptedVoiceAgent, ScriptError, parse_script, resolve_day
from adapters.scripted.days import DayError, resolve_slot
from adapters.scripted.template import Placeholders, TemplateError
from adapters.scripted.tone import tone
from application.ports import (
    TELEPHONE_AUDIO,
    AgentAudio,
    AgentAudioDone,
    AgentEvent,
    AgentFailed,
    AgentReady,
    AgentUnavailable,
    AudioEncoding,
    AudioFormat,
    HistoryItem,
    ToolCallRequested,
    Transcript,
)
from entrypoints.dev_client.audio import mulaw_encode
from entrypoints.settings import DEFAULT_PRACTICE_FILE
from tests.support.agent_profile import a_profile
from tests.support.clock import FixedClock

TOOLS = frozenset({"check_available_slots", "book_appointment", "end_call"})
PRACTICE = load_practice(DEFAULT_PRACTICE_FILE, None)
SATURDAY = date(2026, 12, 5)
GREETING = "Hello, Bright Smile Dental."


def script(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "book",
        "turn": [
            {
                "caller": "A checkup please.",
                "tools": [{"name": "check_available_slots", "arguments": {"service": "checkup"}}],
                "agent": "How about {{ check_available_slots.slots.0.time }}?",
            },
            {"caller": "Bye.", "tools": [{"name": "end_call"}], "agent": "Goodbye!"},
        ],
    }
    return raw | changes


def test_a_script_reads_its_turns_in_order() -> None:
    parsed = parse_script(script(), where="s.toml", known_tools=TOOLS)
    assert parsed.caller_lines == ("A checkup please.", "Bye.")
    assert [t.name for turn in parsed.turns for t in turn.tools] == [
        "check_available_slots",
        "end_call",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (script(colour="red"), "s.toml: unknown key 'colour'"),
        (script(turn=[]), "s.toml: turn: at least one [[turn]] is needed"),
        (
            script(turn=[{"caller": "hi", "tools": [{"name": "end_call", "args": {}}]}]),
            "s.toml: turn[0].tools[0]: unknown key 'args'",
        ),
        (
            script(turn=[{"caller": "hi", "tools": [{"name": "fly"}]}]),
            "s.toml: turn[0].tools[0].name: no tool 'fly'",
        ),
        (
            script(turn=[{"caller": "hi", "agent": "bye"}]),
            "s.toml: turn[0].tools: the last turn's last tool must be one of",
        ),
        (script(name=""), "s.toml: name: expected a non-empty string"),
    ],
    ids=["top-key", "no-turns", "tool-key", "unknown-tool", "no-ending", "empty-name"],
)
def test_a_bad_script_is_refused_naming_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ScriptError) as refused:
        parse_script(raw, where="s.toml", known_tools=TOOLS)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("expression", "day"),
    [
        ("today", date(2026, 12, 5)),
        ("tomorrow", date(2026, 12, 6)),
        ("next saturday", date(2026, 12, 12)),  # never today
        ("next friday", date(2026, 12, 11)),
        ("next open friday", date(2026, 12, 11)),
        ("2027-01-04", date(2027, 1, 4)),
    ],
)
def test_days_are_named_relative_to_today(expression: str, day: date) -> None:
    assert resolve_day(expression, today=SATURDAY, practice=PRACTICE) == day


def test_next_open_skips_the_practices_closures() -> None:
    friday_before_christmas = date(2026, 12, 18)
    assert resolve_day("next friday", today=friday_before_christmas, practice=PRACTICE) == date(
        2026, 12, 25
    )
    # 25 December and 1 January are both closures.
    assert resolve_day(
        "next open friday", today=friday_before_christmas, practice=PRACTICE
    ) == date(2027, 1, 8)


def test_a_slot_is_named_by_provider_day_and_wall_clock_time() -> None:
    assert resolve_slot("dr-lee next monday 09:30", today=SATURDAY, practice=PRACTICE) == (
        "dr-lee@2026-12-07T14:30Z"
    )
    with pytest.raises(DayError, match="'9h' is not a time"):
        resolve_slot("dr-lee next monday 9h", today=SATURDAY, practice=PRACTICE)
    with pytest.raises(DayError, match="'someday' is not a day"):
        resolve_day("someday", today=SATURDAY, practice=PRACTICE)


def test_placeholders_fill_from_days_slots_and_earlier_results() -> None:
    fill = Placeholders(today=SATURDAY, practice=PRACTICE)
    fill.results["check_available_slots"] = {"slots": [{"slot_id": "x@y", "n": 3}]}
    assert fill.fill(
        {"date": "{{ next monday }}", "n": "{{ check_available_slots.slots.0.n }}"}
    ) == {
        "date": "2026-12-07",
        "n": 3,
    }
    assert fill.fill("At {{check_available_slots.slots.0.slot_id}}.") == "At x@y."
    with pytest.raises(TemplateError, match="no result of 'book_appointment' yet"):
        fill.fill("{{ book_appointment.appointment.time }}")
    with pytest.raises(TemplateError, match="the result has no '5' there"):
        fill.fill("{{ check_available_slots.slots.5.slot_id }}")


def test_the_tone_is_in_the_legs_format() -> None:
    assert len(tone(TELEPHONE_AUDIO, 200)) == 1600
    assert len(tone(AudioFormat(AudioEncoding.LINEAR16, 16000), 200)) == 6400
    assert len(tone(AudioFormat(AudioEncoding.PCMA, 8000), 100)) == 800
    # The same µ-law as the dev client's encoder, sample for sample.
    pcmu = tone(TELEPHONE_AUDIO, 20)
    linear = tone(AudioFormat(AudioEncoding.LINEAR16, 8000), 20)
    samples = [int.from_bytes(linear[i : i + 2], "little", signed=True) for i in range(0, 320, 2)]
    assert pcmu == mulaw_encode(samples)


async def test_a_scripted_conversation_speaks_after_caller_audio_and_uses_tool_results() -> None:
    parsed = parse_script(script(), where="s.toml", known_tools=TOOLS)
    clock = FixedClock(datetime(2026, 12, 5, 15, tzinfo=UTC))
    agent = ScriptedVoiceAgent(parsed, practice=PRACTICE, clock=clock, pause_s=0.1)
    connection = await agent.connect(a_profile(GREETING), TELEPHONE_AUDIO)
    events = connection.events()
    seen: list[AgentEvent] = []

    async def until(kind: type[AgentEvent]) -> None:
        while not seen or not isinstance(seen[-1], kind):
            seen.append(await asyncio.wait_for(anext(events), 5))

    await until(AgentAudioDone)  # the greeting
    assert isinstance(seen[0], AgentReady)
    greeting = next(e for e in seen if isinstance(e, Transcript))
    assert greeting.text.startswith(LABEL)
    audio = next(e for e in seen if isinstance(e, AgentAudio))
    # The caller's line comes once the caller has sent the greeting's length plus the
    # pause (8000 bytes a second): here, in 20 ms frames, as a leg sends them.
    for _ in range(len(audio.payload) // 160 + 5):
        await connection.send_audio(b"\xff" * 160)
    seen.append(await asyncio.wait_for(anext(events), 5))
    assert seen[-1] == Transcript("user", LABEL + "A checkup please.")
    await until(ToolCallRequested)
    request = seen[-1]
    assert isinstance(request, ToolCallRequested)
    assert json.loads(request.arguments) == {"service": "checkup"}

    result = {"ok": True, "slots": [{"slot_id": "dr-lee@x", "time": "Monday at 9 AM"}]}
    await connection.send_tool_result(request.call_id, request.name, json.dumps(result))

    await until(AgentAudioDone)
    said = [e.text for e in seen if isinstance(e, Transcript)]
    assert said[-1] == LABEL + "How about Monday at 9 AM?"
    await connection.close()


async def test_a_placeholder_that_cannot_be_filled_fails_the_agent_saying_why() -> None:
    raw = script()
    raw["turn"][0]["agent"] = "{{ check_available_slots.slots.9.time }}"
    parsed = parse_script(raw, where="s.toml", known_tools=TOOLS)
    clock = FixedClock(datetime(2026, 12, 5, 15, tzinfo=UTC))
    agent = ScriptedVoiceAgent(parsed, practice=PRACTICE, clock=clock, pause_s=0)
    connection = await agent.connect(a_profile(GREETING), TELEPHONE_AUDIO)
    events = connection.events()
    seen: list[AgentEvent] = []
    while not seen or not isinstance(seen[-1], (ToolCallRequested, AgentFailed)):
        if seen and isinstance(seen[-1], AgentAudioDone):
            await connection.send_audio(b"\xff" * 4000)
        seen.append(await asyncio.wait_for(anext(events), 5))
    request = seen[-1]
    assert isinstance(request, ToolCallRequested)
    await connection.send_tool_result(request.call_id, request.name, '{"ok":true,"slots":[]}')
    failed = await asyncio.wait_for(anext(events), 5)
    assert isinstance(failed, AgentFailed)
    assert "'book'" in failed.reason
    assert "no '9' there" in failed.reason
    await connection.close()


async def test_a_scripted_conversation_is_never_resumed_from_its_start() -> None:
    parsed = parse_script(script(), where="s.toml", known_tools=TOOLS)
    clock = FixedClock(datetime(2026, 12, 5, 15, tzinfo=UTC))
    agent = ScriptedVoiceAgent(parsed, practice=PRACTICE, clock=clock)
    resumed = a_profile(GREETING)

    with pytest.raises(AgentUnavailable, match="cannot be resumed"):
        await agent.connect(
            replace(resumed, greeting=None, history=(HistoryItem("user", "hi"),)), TELEPHONE_AUDIO
        )
