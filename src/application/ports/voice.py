"""Ports for the two live sides of a call: the caller's leg and the voice agent.

Events are small frozen values; an audio event's repr shows its length, never its bytes.
Audio is raw samples in the leg's `AudioFormat`: the agent is opened with the same
format, so audio crosses the session byte for byte and nobody resamples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from domain.calls import NextStep

# --- audio -------------------------------------------------------------------------


class AudioEncoding(StrEnum):
    """How samples are coded on the wire: the codecs telephony and browsers share."""

    PCMU = "pcmu"
    """G.711 µ-law, one byte a sample."""
    PCMA = "pcma"
    """G.711 A-law, one byte a sample."""
    LINEAR16 = "linear16"
    """16-bit signed little-endian PCM, two bytes a sample."""

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self is AudioEncoding.LINEAR16 else 1


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """Mono audio as a leg carries it, and as the agent is asked to take and give it."""

    encoding: AudioEncoding
    sample_rate_hz: int

    @property
    def bytes_per_second(self) -> int:
        return self.encoding.bytes_per_sample * self.sample_rate_hz

    def frame_bytes(self, frame_ms: int = 20) -> int:
        return self.bytes_per_second * frame_ms // 1000

    def __str__(self) -> str:
        return f"{self.encoding} {self.sample_rate_hz} Hz"


TELEPHONE_AUDIO = AudioFormat(AudioEncoding.PCMU, 8000)
"""What the public phone network carries in North America and Japan (and most carriers'
media streams by default)."""


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
class TurnPlayed:
    """The caller has heard turn `turn` to its end, or it was dropped by `interrupt`."""

    turn: int


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller's side is gone: the carrier ended the stream or its socket closed."""


CallerEvent = CallerAudio | CallerDtmf | TurnPlayed | CallerHungUp


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOutcome:
    """What the caller hears and where they go once the receptionist is done: `say`
    (when set) is spoken first, then the call goes to `transfer_to` (a phone number)
    or, without one, is hung up. Each carrier's adapter renders it in its own terms."""

    step: NextStep
    say: str | None = None
    transfer_to: str | None = None


class CallLeg(Protocol):
    """The caller's side of one call on any carrier, past its handshake.

    Playback is in the receptionist's terms: `play` queues a turn's audio, `finish_turn`
    says the turn has all been queued (the leg reports `TurnPlayed` once it has played),
    `interrupt` drops whatever is still queued (barge-in). Writes keep their order.
    How a carrier does that (marks, acknowledgements, its own queue) is the adapter's.
    """

    @property
    def carrier(self) -> str:
        """Who carries the call: "twilio", "telnyx", "browser"..."""
        ...

    @property
    def carrier_call_id(self) -> str:
        """The carrier's own reference for this call, as its webhook named it."""
        ...

    @property
    def audio_format(self) -> AudioFormat:
        """The audio the caller's side sends and expects back."""
        ...

    def events(self) -> AsyncIterator[CallerEvent]:
        """One consumer. Ends after exactly one `CallerHungUp`."""
        ...

    async def play(self, audio: bytes) -> None:
        """Queue `audio` (in `audio_format`) after everything queued before it."""
        ...

    async def finish_turn(self, turn: int) -> None:
        """All of turn `turn`'s audio has been queued: report `TurnPlayed(turn)` when
        the caller has heard it (at once for a turn `interrupt` dropped)."""
        ...

    async def interrupt(self) -> None:
        """Barge-in: drop queued audio now; turns still pending are reported played."""
        ...

    async def end(self, outcome: CallOutcome) -> None:
        """End the receptionist's part of the call (idempotent); the carrier's adapter
        carries `outcome` out. A carrier that asks what to do next once the stream
        closes is answered from the stored call record instead (see `NextStepHandler`),
        so `outcome` is for carriers that are told directly."""
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
    """Who the agent is, in no provider's terms: what it is told, what it says first,
    its voice (the provider's name for it; None for the provider's default) and its
    language (BCP 47). Model choices are the provider adapter's own settings."""

    prompt: str
    greeting: str | None
    tools: Sequence[ToolSpec]
    voice: str | None = None
    language: str = "en"
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

    async def close(self) -> None: ...


@runtime_checkable
class TakesCallerText(Protocol):
    """An agent connection that also takes the caller's words as text, not audio (to
    test a receptionist with written lines). Not every provider can."""

    async def send_caller_text(self, text: str) -> None: ...


class VoiceAgent(Protocol):
    async def connect(self, profile: AgentProfile, audio: AudioFormat) -> AgentConnection:
        """Open a conversation that hears and speaks `audio` (the caller's leg's format);
        raises `AgentUnavailable` if it cannot be opened, or if the provider cannot take
        that format as it is."""
        ...


class AgentUnavailable(Exception):
    """The voice agent could not be reached or refused the settings."""
