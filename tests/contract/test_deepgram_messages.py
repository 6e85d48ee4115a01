"""Our Settings against the emulator's strict reading of Deepgram's published schema."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest
from tests.support.deepgram_emulator import DeepgramEmulator, validate_settings
from websockets.asyncio.client import connect

from adapters.deepgram import DeepgramVoiceAgent
from adapters.deepgram import agent as agent_module
from adapters.deepgram import messages as m
from adapters.deepgram.settings import render_settings
from application.ports.voice import (
    TELEPHONE_AUDIO,
    AgentFailed,
    AgentProfile,
    HistoryItem,
    ToolSpec,
)

KEY = "contract-key"


def a_realistic_profile() -> AgentProfile:
    return AgentProfile(
        prompt="You are the receptionist of Smile Dental. Today is Tuesday 3 June 2025.",
        greeting="Thank you for calling Smile Dental. How can I help?",
        tools=[
            ToolSpec(
                name="book_appointment",
                description="Book a slot for the caller.",
                parameters={
                    "type": "object",
                    "properties": {
                        "slot_id": {"type": "string"},
                        "patient_name": {"type": "string"},
                    },
                    "required": ["slot_id", "patient_name"],
                },
            ),
            ToolSpec(
                name="end_call",
                description="Hang up after saying goodbye.",
                parameters={"type": "object", "properties": {}},
            ),
        ],
        keyterms=["Smile Dental", "Dr. Okafor"],
        history=[
            HistoryItem("assistant", "Thank you for calling."),
            HistoryItem("user", "I'd like a cleaning."),
        ],
    )


def test_our_settings_pass_the_strict_schema() -> None:
    settings = validate_settings(m.encode(render_settings(a_realistic_profile(), TELEPHONE_AUDIO)))
    assert settings.audio.input is not None
    assert settings.audio.input.encoding == "mulaw"
    assert settings.agent.think is not None
    assert [f.name for f in settings.agent.think.functions or []] == [
        "book_appointment",
        "end_call",
    ]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("surprise",), 1),
        (("agent", "think", "provider", "surprise"), "x"),
        (("audio", "input", "sample_rate"), "8000"),
    ],
)
def test_a_settings_with_an_unknown_field_or_wrong_type_fails_the_schema(
    path: tuple[str, ...], value: object
) -> None:
    settings = json.loads(m.encode(render_settings(a_realistic_profile(), TELEPHONE_AUDIO)))
    target = settings
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(msgspec.ValidationError):
        validate_settings(json.dumps(settings))


def test_a_settings_missing_a_required_field_fails_the_schema() -> None:
    settings = json.loads(m.encode(render_settings(a_realistic_profile(), TELEPHONE_AUDIO)))
    del settings["agent"]["listen"]["provider"]["model"]
    with pytest.raises(msgspec.ValidationError, match="model"):
        validate_settings(json.dumps(settings))


class _SettingsWithAnExtraField(m.Settings, tag="Settings", tag_field="type", kw_only=True):
    surprise: str


def settings_with_an_extra_field(profile: AgentProfile, *args: object) -> m.Settings:
    rendered = render_settings(profile, TELEPHONE_AUDIO)
    return _SettingsWithAnExtraField(
        audio=rendered.audio, agent=rendered.agent, surprise="not in the schema"
    )


async def test_the_emulator_refuses_settings_with_an_unknown_field_with_an_error() -> None:
    async with (
        DeepgramEmulator(api_key=KEY) as emulator,
        connect(emulator.url, additional_headers={"Authorization": f"Token {KEY}"}) as ws,
    ):
        assert json.loads(await ws.recv())["type"] == "Welcome"
        await ws.send(m.encode(settings_with_an_extra_field(a_realistic_profile())), text=True)
        error = json.loads(await ws.recv())
        assert error["type"] == "Error"
        assert error["code"] == "INVALID_SETTINGS"
        assert "surprise" in error["description"]
        await ws.wait_closed()
        assert ws.close_code == 1008
        session = await emulator.session(0)
        assert session.errors_sent == ["INVALID_SETTINGS"]


async def test_refused_settings_reach_the_adapter_as_agent_failed_with_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agent_module, "render_settings", settings_with_an_extra_field)
    async with DeepgramEmulator(api_key=KEY) as emulator:
        connection = await DeepgramVoiceAgent(emulator.url, KEY).connect(
            a_realistic_profile(), TELEPHONE_AUDIO
        )
        async with asyncio.timeout(5):
            events = [event async for event in connection.events()]
        [failure] = events
        assert isinstance(failure, AgentFailed)
        assert "1008" in failure.reason
        assert "INVALID_SETTINGS" in failure.reason
        await connection.close()
