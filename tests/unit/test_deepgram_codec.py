"""The Deepgram wire format and the Settings rendering, without a socket."""

from __future__ import annotations

import json

import pytest

from adapters.deepgram import messages as m
from adapters.deepgram.options import DeepgramOptions
from adapters.deepgram.settings import render_settings
from application.ports.voice import (
    TELEPHONE_AUDIO,
    AgentProfile,
    AudioEncoding,
    AudioFormat,
    HistoryItem,
    ToolCallHistory,
    ToolSpec,
)


def a_profile(**changes: object) -> AgentProfile:
    fields: dict[str, object] = {
        "prompt": "You are the receptionist of Smile Dental.",
        "greeting": "Smile Dental, how can I help?",
        "tools": [
            ToolSpec(
                name="find_open_slots",
                description="Open slots on a day.",
                parameters={"type": "object", "properties": {"day": {"type": "string"}}},
            )
        ],
    }
    fields.update(changes)
    return AgentProfile(**fields)  # type: ignore[arg-type]


def rendered(
    profile: AgentProfile,
    audio: AudioFormat = TELEPHONE_AUDIO,
    options: DeepgramOptions | None = None,
) -> dict[str, object]:
    result: dict[str, object] = json.loads(m.encode(render_settings(profile, audio, options)))
    return result


def test_settings_ask_for_telephony_audio_both_ways() -> None:
    audio = rendered(a_profile())["audio"]
    assert audio == {
        "input": {"encoding": "mulaw", "sample_rate": 8000},
        "output": {"encoding": "mulaw", "sample_rate": 8000, "container": "none"},
    }


def test_settings_render_the_profile_as_the_agent() -> None:
    agent = rendered(a_profile(keyterms=["Smile Dental"]))["agent"]
    assert agent == {
        "listen": {
            "provider": {
                "type": "deepgram",
                "model": "flux-general-en",
                "version": "v2",
                "keyterms": ["Smile Dental"],
            }
        },
        "think": {
            "provider": {"type": "open_ai", "model": "gpt-4o-mini"},
            "prompt": "You are the receptionist of Smile Dental.",
            "functions": [
                {
                    "name": "find_open_slots",
                    "description": "Open slots on a day.",
                    "parameters": {
                        "type": "object",
                        "properties": {"day": {"type": "string"}},
                    },
                }
            ],
        },
        "speak": {"provider": {"type": "deepgram", "model": "aura-2-thalia-en"}},
        "language": "en",
        "greeting": "Smile Dental, how can I help?",
    }
    assert rendered(a_profile())["type"] == "Settings"


@pytest.mark.parametrize(
    ("audio", "encoding"),
    [
        (AudioFormat(AudioEncoding.PCMU, 8000), "mulaw"),
        (AudioFormat(AudioEncoding.PCMA, 8000), "alaw"),
        (AudioFormat(AudioEncoding.LINEAR16, 16000), "linear16"),
    ],
)
def test_the_agent_hears_and_speaks_the_legs_own_format(audio: AudioFormat, encoding: str) -> None:
    assert rendered(a_profile(), audio)["audio"] == {
        "input": {"encoding": encoding, "sample_rate": audio.sample_rate_hz},
        "output": {"encoding": encoding, "sample_rate": audio.sample_rate_hz, "container": "none"},
    }


def test_deepgram_options_choose_the_models_and_the_profiles_voice_wins() -> None:
    options = DeepgramOptions(
        listen_model="nova-3", think_provider="anthropic", think_model="claude", speak_model="x"
    )
    agent = rendered(a_profile(language="es"), options=options)["agent"]
    assert isinstance(agent, dict)
    assert agent["listen"]["provider"]["model"] == "nova-3"
    assert agent["listen"]["provider"]["version"] == "v1"
    assert agent["think"]["provider"] == {"type": "anthropic", "model": "claude"}
    assert agent["speak"]["provider"]["model"] == "x"
    assert agent["language"] == "es"
    voiced = rendered(a_profile(voice="aura-2-orion-en"), options=options)["agent"]
    assert isinstance(voiced, dict)
    assert voiced["speak"]["provider"]["model"] == "aura-2-orion-en"


def test_a_practice_files_deepgram_section_overrides_the_defaults() -> None:
    options = DeepgramOptions().overridden_by({"think_model": "gpt-4o"})
    assert options.think_model == "gpt-4o"
    assert options.listen_model == DeepgramOptions().listen_model


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"speak_modle": "aura"}, "unknown keys ['speak_modle']"),
        ({"think_model": 4}, "think_model: must be a non-empty string"),
        ({"listen_model": " "}, "listen_model: must be a non-empty string"),
    ],
)
def test_a_bad_deepgram_section_is_refused_naming_the_key(
    section: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=r"\[receptionist\.deepgram\]") as raised:
        DeepgramOptions().overridden_by(section)
    assert problem in str(raised.value)


def test_optional_settings_are_left_out_rather_than_null() -> None:
    settings = rendered(
        a_profile(greeting=None, tools=[]), options=DeepgramOptions(listen_model="")
    )
    agent = settings["agent"]
    assert isinstance(agent, dict)
    assert "greeting" not in agent
    assert "context" not in agent
    assert "functions" not in agent["think"]
    assert agent["listen"]["provider"] == {
        "type": "deepgram",
        "model": "flux-general-en",
        "version": "v2",
    }
    assert (
        "null" not in m.encode(render_settings(a_profile(greeting=None), TELEPHONE_AUDIO)).decode()
    )


def test_history_restores_the_conversation_as_context_messages() -> None:
    history = [HistoryItem("user", "I need a cleaning."), HistoryItem("assistant", "Sure.")]
    agent = rendered(a_profile(history=history))["agent"]
    assert isinstance(agent, dict)
    assert agent["context"] == {
        "messages": [
            {"type": "History", "role": "user", "content": "I need a cleaning."},
            {"type": "History", "role": "assistant", "content": "Sure."},
        ]
    }


def test_a_tool_call_in_the_history_is_restored_as_a_client_side_function_call() -> None:
    history = [ToolCallHistory("fc-1", "find_open_slots", '{"day":"mon"}', '{"ok":true}')]
    agent = rendered(a_profile(history=history))["agent"]
    assert isinstance(agent, dict)
    assert agent["context"] == {
        "messages": [
            {
                "type": "History",
                "function_calls": [
                    {
                        "id": "fc-1",
                        "name": "find_open_slots",
                        "client_side": True,
                        "arguments": '{"day":"mon"}',
                        "response": '{"ok":true}',
                    }
                ],
            }
        ]
    }


def test_control_messages_encode_with_their_type() -> None:
    assert json.loads(m.KEEPALIVE_FRAME) == {"type": "KeepAlive"}
    assert json.loads(m.encode(m.FunctionCallResponse(id="f1", name="x", content="{}"))) == {
        "type": "FunctionCallResponse",
        "id": "f1",
        "name": "x",
        "content": "{}",
    }
    assert json.loads(m.encode(m.InjectAgentMessage(message="Goodbye."))) == {
        "type": "InjectAgentMessage",
        "message": "Goodbye.",
    }


def test_a_function_call_request_decodes_into_typed_calls() -> None:
    frame = json.dumps(
        {
            "type": "FunctionCallRequest",
            "functions": [
                {"id": "a", "name": "book", "arguments": '{"slot": 1}', "client_side": True},
                {"id": "b", "name": "web", "arguments": "{}", "client_side": False},
            ],
        }
    )
    message = m.decode(frame)
    assert isinstance(message, m.FunctionCallRequest)
    assert [(call.id, call.client_side) for call in message.functions] == [
        ("a", True),
        ("b", False),
    ]


def test_server_messages_decode_even_with_fields_we_do_not_know() -> None:
    message = m.decode(
        '{"type":"AgentStartedSpeaking","total_latency":0.4,"tts_latency":0.1,'
        '"ttt_latency":0.3,"brand_new":1}'
    )
    assert message == m.AgentStartedSpeaking(total_latency=0.4, tts_latency=0.1, ttt_latency=0.3)
    assert m.decode('{"type":"Error","description":"bad","code":"X"}') == m.ServerError(
        description="bad", code="X"
    )


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"SomethingNew","x":1}',
        '{"no_type":true}',
        "not json",
        '{"type":"ConversationText","role":"user"}',
        "[]",
    ],
)
def test_unknown_or_malformed_frames_decode_to_nothing(frame: str) -> None:
    assert m.decode(frame) is None
