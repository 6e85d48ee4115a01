"""A call's record, whatever carried it. Transitions are methods; the record is what
operators read later."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class StreamRefused(Exception):
    """A media stream that may not attach to the call it names."""


class CallStatus(StrEnum):
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"


class EndReason(StrEnum):
    CALLER_HUNG_UP = "caller_hung_up"
    AGENT_ENDED = "agent_ended"
    TRANSFERRED = "transferred"
    AGENT_FAILED = "agent_failed"
    AGENT_UNAVAILABLE = "agent_unavailable"
    TIME_LIMIT = "time_limit"
    SHUTDOWN = "shutdown"
    """The instance was stopping and the call outlived its drain timeout."""
    AT_CAPACITY = "at_capacity"
    """Turned away: the instance was carrying as many calls as it may."""
    DRAINING = "draining"
    """Turned away: the instance was stopping."""
    AGENT_NOT_CONFIGURED = "agent_not_configured"
    """Turned away: no voice agent is configured."""
    INTERNAL_ERROR = "internal_error"


class NextStep(StrEnum):
    """What happens to the caller once the receptionist's part of the call is over."""

    HANG_UP = "hang_up"
    TRANSFER = "transfer"
    APOLOGISE = "apologise"


class Speaker(StrEnum):
    CALLER = "caller"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Speaker
    text: str
    at: datetime
    interrupted: bool = False


@dataclass(frozen=True, slots=True)
class ToolInvocation:
    """One function call the agent made: `outcome` is "ok" or an error code."""

    name: str
    arguments: str
    outcome: str
    result: str
    at: datetime
    duration_ms: float


@dataclass(slots=True, eq=False)
class Call:
    """A call, from the webhook that admitted it to the carrier's final status report.

    `id` is ours; `carrier` names who carried the call ("twilio", "telnyx", "browser")
    and `carrier_call_id` is that carrier's own reference for it, unique per carrier.
    Numbers are stored as the carrier sent them (E.164 for phones, or e.g. "anonymous").
    """

    id: UUID
    carrier: str
    carrier_call_id: str
    from_number: str
    to_number: str
    started_at: datetime
    status: CallStatus = CallStatus.RINGING
    next_step: NextStep = NextStep.HANG_UP
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    carrier_status: str | None = None
    """The carrier's own latest status word for the call, as it sent it."""
    duration_s: int | None = None
    stream_token_digest: str | None = None
    """Digest of the one-time token that lets one media stream attach to this call."""
    turns: list[Turn] = field(default_factory=list)
    tool_invocations: list[ToolInvocation] = field(default_factory=list)

    @property
    def is_live(self) -> bool:
        return self.status is not CallStatus.ENDED

    @property
    def elapsed_s(self) -> float | None:
        """From admission to our end of the call, once it has ended."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def open_stream(self, token_digest: str) -> None:
        """Attach the media stream that presents this call's one-time token.

        The token is spent: a replayed or second stream is refused.
        """
        expected = self.stream_token_digest
        if self.status is not CallStatus.RINGING or expected is None:
            raise StreamRefused("this call's stream was already opened or has ended")
        if not hmac.compare_digest(expected, token_digest):
            raise StreamRefused("the stream token does not match the call")
        self.stream_token_digest = None
        self.status = CallStatus.IN_PROGRESS

    def hear(self, turn: Turn) -> None:
        self.turns.append(turn)

    def mark_last_agent_turn_interrupted(self) -> None:
        """The caller spoke over the agent: its latest turn did not finish playing."""
        for i in range(len(self.turns) - 1, -1, -1):
            turn = self.turns[i]
            if turn.speaker is Speaker.AGENT:
                if not turn.interrupted:
                    self.turns[i] = Turn(turn.speaker, turn.text, turn.at, interrupted=True)
                return

    def record_tool(self, invocation: ToolInvocation) -> None:
        self.tool_invocations.append(invocation)

    def plan(self, step: NextStep) -> None:
        """Set what happens once the stream closes (transfer, hang up, apologise)."""
        self.next_step = step

    def turn_away(self, reason: EndReason, step: NextStep, at: datetime) -> None:
        """The call was answered with a polite refusal instead of the receptionist."""
        self.stream_token_digest = None
        self.plan(step)
        self.end(reason, at)

    def end(self, reason: EndReason, at: datetime) -> None:
        """End the call once; later calls keep the first reason (it is the true one)."""
        if self.status is CallStatus.ENDED:
            return
        self.status = CallStatus.ENDED
        self.end_reason = reason
        self.ended_at = at

    def report_status(self, carrier_status: str) -> None:
        """A carrier's progress report that does not end the call."""
        self.carrier_status = carrier_status

    def complete(self, carrier_status: str, duration_s: int | None, at: datetime) -> None:
        """The carrier's final status report: the call is over whatever we thought."""
        self.carrier_status = carrier_status
        self.duration_s = duration_s
        self.end(EndReason.CALLER_HUNG_UP, at)
