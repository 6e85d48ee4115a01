"""The Deepgram Voice Agent wire format (v1): typed client and server messages, one codec.

Client messages are encoded with `omit_defaults`, so an optional field left at its
default (None) is not sent at all: the service rejects unknown fields and some nulls.
Server messages are decoded into a tagged union; a frame of a type we do not know, or
one that does not decode, becomes `None` (the service adds message types over time).
Nothing past this module sees a raw dict.
"""

from __future__ import annotations

import logging
from typing import Any, Final, Literal

import msgspec

logger = logging.getLogger(__name__)

# --- client -> server ---------------------------------------------------------------


class _Out(msgspec.Struct, omit_defaults=True, kw_only=True):
    pass


class AudioInput(_Out):
    encoding: str
    sample_rate: int


class AudioOutput(_Out):
    encoding: str
    sample_rate: int
    container: str | None = None
    bitrate: int | None = None


class AudioSettings(_Out):
    input: AudioInput
    output: AudioOutput


class ListenProvider(_Out):
    type: str
    model: str
    version: str | None = None
    keyterms: list[str] | None = None
    eot_threshold: float | None = None
    eot_timeout_ms: int | None = None


class Listen(_Out):
    provider: ListenProvider


class ThinkProvider(_Out):
    type: str
    model: str
    temperature: float | None = None


class Function(_Out):
    """A function the LLM may call; without an `endpoint` the client executes it."""

    name: str
    description: str
    parameters: dict[str, Any]


class Think(_Out):
    provider: ThinkProvider
    prompt: str | None = None
    functions: list[Function] | None = None


class SpeakProvider(_Out):
    type: str
    model: str


class Speak(_Out):
    provider: SpeakProvider


class HistoryMessage(_Out, tag="History", tag_field="type"):
    role: Literal["user", "assistant"]
    content: str


class FunctionCallRecord(_Out):
    id: str
    name: str
    client_side: bool
    arguments: str
    response: str


class HistoryFunctionCalls(_Out, tag="History", tag_field="type"):
    function_calls: list[FunctionCallRecord]


class Context(_Out):
    messages: list[HistoryMessage | HistoryFunctionCalls]


class Agent(_Out):
    listen: Listen
    think: Think
    speak: Speak
    language: str | None = None
    greeting: str | None = None
    context: Context | None = None


class Settings(_Out, tag="Settings", tag_field="type"):
    audio: AudioSettings
    agent: Agent
    tags: list[str] | None = None
    mip_opt_out: bool | None = None


class KeepAlive(_Out, tag="KeepAlive", tag_field="type"):
    pass


class FunctionCallResponse(_Out, tag="FunctionCallResponse", tag_field="type"):
    id: str
    name: str
    content: str


class InjectAgentMessage(_Out, tag="InjectAgentMessage", tag_field="type"):
    message: str


class InjectUserMessage(_Out, tag="InjectUserMessage", tag_field="type"):
    content: str


class UpdatePrompt(_Out, tag="UpdatePrompt", tag_field="type"):
    prompt: str


ClientMessage = (
    Settings
    | KeepAlive
    | FunctionCallResponse
    | InjectAgentMessage
    | InjectUserMessage
    | UpdatePrompt
)

_encoder: Final = msgspec.json.Encoder()


def encode(message: ClientMessage) -> bytes:
    """JSON bytes of a client message; send them as a *text* frame (binary is audio)."""
    return _encoder.encode(message)


KEEPALIVE_FRAME: Final = encode(KeepAlive())


# --- server -> client ---------------------------------------------------------------
# Decoding is lenient about fields (unknown ones are ignored, most have defaults): a
# field the service adds or drops must not cost us the message.


class _In(msgspec.Struct, kw_only=True, tag_field="type"):
    pass


class Welcome(_In, tag="Welcome"):
    request_id: str = ""


class SettingsApplied(_In, tag="SettingsApplied"):
    pass


class ConversationText(_In, tag="ConversationText"):
    role: Literal["user", "assistant"]
    content: str


class UserStartedSpeaking(_In, tag="UserStartedSpeaking"):
    pass


class AgentThinking(_In, tag="AgentThinking"):
    content: str = ""


class FunctionCall(msgspec.Struct, kw_only=True):
    id: str
    name: str
    arguments: str
    client_side: bool


class FunctionCallRequest(_In, tag="FunctionCallRequest"):
    functions: list[FunctionCall]


class FunctionCallCancelled(_In, tag="FunctionCallCancelled"):
    pass


class ServerFunctionCallResponse(_In, tag="FunctionCallResponse"):
    """The result of a server-side function (client_side false): informational."""

    id: str = ""
    name: str = ""
    content: str = ""


class AgentStartedSpeaking(_In, tag="AgentStartedSpeaking"):
    total_latency: float | None = None
    tts_latency: float | None = None
    ttt_latency: float | None = None


class AgentAudioDone(_In, tag="AgentAudioDone"):
    pass


class LatencyReport(_In, tag="LatencyReport"):
    pass


class PromptUpdated(_In, tag="PromptUpdated"):
    pass


class SpeakUpdated(_In, tag="SpeakUpdated"):
    pass


class InjectionRefused(_In, tag="InjectionRefused"):
    message: str = ""


class History(_In, tag="History"):
    pass


class ServerWarning(_In, tag="Warning"):
    description: str = ""
    code: str | int = ""


class ServerError(_In, tag="Error"):
    description: str = ""
    code: str | int = ""


ServerMessage = (
    Welcome
    | SettingsApplied
    | ConversationText
    | UserStartedSpeaking
    | AgentThinking
    | FunctionCallRequest
    | FunctionCallCancelled
    | ServerFunctionCallResponse
    | AgentStartedSpeaking
    | AgentAudioDone
    | LatencyReport
    | PromptUpdated
    | SpeakUpdated
    | InjectionRefused
    | History
    | ServerWarning
    | ServerError
)

_decoder: Final = msgspec.json.Decoder(ServerMessage)


def decode(frame: str | bytes) -> ServerMessage | None:
    """The message in a text frame, or None for an unknown type or a malformed frame."""
    try:
        message: ServerMessage = _decoder.decode(frame)
    except msgspec.DecodeError as error:  # ValidationError is a DecodeError
        logger.debug("ignoring a Deepgram frame we cannot decode: %s", error)
        return None
    return message
