"""What a live call reports as it happens, and the port it reports through.

A `CallSession` publishes these to a `CallObserver` (an in-process broker in
production, feeding `WS /api/v1/calls/{id}/events`). Publishing is synchronous and
must never block or raise: it runs on the call's audio path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain.calls import EndReason, NextStep, Speaker


@dataclass(frozen=True, slots=True)
class TranscriptHeard:
    speaker: Speaker
    text: str


@dataclass(frozen=True, slots=True)
class ToolRan:
    name: str
    arguments: str
    """The JSON arguments as the agent sent them."""
    outcome: str
    duration_ms: float


@dataclass(frozen=True, slots=True)
class BargedIn:
    """The caller spoke over audible agent audio; the caller's queue was cleared."""


@dataclass(frozen=True, slots=True)
class AgentReconnected:
    """The voice agent failed mid-call and a new connection took over, history restored.

    `attempt` counts the tries of this recovery (1 = the first try worked).
    """

    attempt: int
    reason: str
    """Why the previous connection was given up."""


@dataclass(slots=True)
class SessionStats:
    frames_in: int = 0
    frames_out: int = 0
    barge_ins: int = 0
    tool_calls: int = 0
    agent_reconnects: int = 0
    agent_latencies_s: list[float] = field(default_factory=list)
    """The agent's own reported latency per turn (end of user speech to its first audio)."""


@dataclass(frozen=True, slots=True)
class CallEnded:
    reason: EndReason
    next_step: NextStep
    stats: SessionStats = field(default_factory=SessionStats)
    duration_s: float | None = None
    """From admission to the end, by the call record's timestamps."""


CallEvent = TranscriptHeard | ToolRan | BargedIn | AgentReconnected | CallEnded


class CallObserver(Protocol):
    """Told about each event of each call; `publish` returns at once and never raises.

    `call_id` is the call's own id (`str(Call.id)`)."""

    def publish(self, call_id: str, event: CallEvent) -> None: ...


class NoObserver:
    """The default observer: drops everything."""

    def publish(self, call_id: str, event: CallEvent) -> None:
        return None
