"""Ports for the two live sides of a call: the caller's leg and the voice agent.

Events are small frozen values. Audio is raw 8 kHz mu-law bytes end to end; an audio
event's repr shows its length, never its bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# --- the caller's side ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerAudio:
    payload: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"CallerAudio({len(self.payload)} bytes)"


@dataclass(frozen=True, slots=True)
class CallerDtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class PlaybackMarked:
    """Twilio reached (or, after a clear, skipped) a mark we sent."""

    name: str


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The stream stopped or its socket closed."""


CallerEvent = CallerAudio | CallerDtmf | PlaybackMarked | CallerHungUp


class CallLeg(Protocol):
    """The caller's side of one call, already past its handshake and `start`.

    Writes keep their order (audio, then a mark, play in the order sent). `clear`
    drops audio queued for playback; pending marks come back at once.
    """

    @property
    def call_sid(self) -> str: ...

    def events(self) -> AsyncIterator[CallerEvent]: ...

    async def play(self, audio: bytes) -> None: ...

    async def clear(self) -> None: ...

    async def mark(self, name: str) -> None: ...

    async def close(self) -> None:
        """Close the stream: Twilio then asks the `<Connect action>` URL what next."""
        ...


# --- the agent's side --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentAudio:
    payload: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"AgentAudio({len(self.payload)} bytes)"


@dataclass(frozen=True, slots=True)
class UserStartedSpeaking:
    pass


@dataclass(frozen=True, slots=True)
class Transcript:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallRequested:
    call_id: str
    name: str
    arguments: str
    """The arguments as the model wrote them: a JSON string, possibly malformed."""


@dataclass(frozen=True, slots=True)
class AgentStartedSpeaking:
    total_latency_s: float | None = None


@dataclass(frozen=True, slots=True)
class AgentAudioDone:
    """The agent has sent all audio of its current turn."""


@dataclass(frozen=True, slots=True)
class AgentReady:
    """The agent accepted its settings; audio sent from now on is heard."""


@dataclass(frozen=True, slots=True)
class AgentFailed:
    """The agent cannot go on (socket closed, fatal error); `reason` is for the record."""

    reason: str


AgentEvent = (
    AgentAudio
    | UserStartedSpeaking
    | Transcript
    | ToolCallRequested
    | AgentStartedSpeaking
    | AgentAudioDone
    | AgentReady
    | AgentFailed
)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the agent may call; `parameters` is a JSON schema object."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One earlier message, to restore a conversation on a new agent connection."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class ToolCallHistory:
    """A function the agent called earlier and the result it was given (or would have
    been, had its connection lived), so a restored conversation knows what was done."""

    call_id: str
    name: str
    arguments: str
    response: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentProfile:
    """Who the agent is, independent of any provider's message format."""

    prompt: str
    greeting: str | None
    listen_model: str
    think_provider: str
    think_model: str
    speak_model: str
    tools: Sequence[ToolSpec]
    keyterms: Sequence[str] = ()
    history: Sequence[HistoryItem | ToolCallHistory] = ()


class AgentConnection(Protocol):
    """One live conversation with the voice agent.

    `events` ends after an `AgentFailed` or once `close` is called. Sending on a
    failed connection does nothing (the failure has already been reported).
    """

    def events(self) -> AsyncIterator[AgentEvent]: ...

    async def send_audio(self, audio: bytes) -> None: ...

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None: ...

    async def inject_message(self, text: str) -> None:
        """Make the agent say `text` now (e.g. a status update or a goodbye)."""
        ...

    async def close(self) -> None: ...


class VoiceAgent(Protocol):
    async def connect(self, profile: AgentProfile) -> AgentConnection:
        """Open a conversation; raises `AgentUnavailable` if it cannot be opened."""
        ...


class AgentUnavailable(Exception):
    """The voice agent could not be reached or refused the settings."""
