"""The live call events feed's wire format (`WS /api/v1/calls/{id}/events`): one JSON
text frame per event. The server encodes with these structs and clients (the dev
client, tests) decode with the same ones, so the two cannot drift apart."""

from __future__ import annotations

import msgspec

from application.calls.events import (
    AgentReconnected,
    BargedIn,
    CallEnded,
    CallEvent,
    ToolRan,
    TranscriptHeard,
)
from domain.calls import Call, EndReason, NextStep, Speaker


class FeedEvent(msgspec.Struct, frozen=True, tag_field="type"):
    pass


class TranscriptOut(FeedEvent, frozen=True, tag="transcript"):
    speaker: str
    text: str


class ToolOut(FeedEvent, frozen=True, tag="tool"):
    name: str
    arguments: str
    outcome: str
    duration_ms: float


class BargeInOut(FeedEvent, frozen=True, tag="barge_in"):
    pass


class AgentReconnectedOut(FeedEvent, frozen=True, tag="agent_reconnected"):
    attempt: int
    reason: str


class EndedOut(FeedEvent, frozen=True, tag="ended"):
    reason: str
    next_step: str


AnyFeedEvent = TranscriptOut | ToolOut | BargeInOut | AgentReconnectedOut | EndedOut

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyFeedEvent)


def to_feed(event: CallEvent) -> AnyFeedEvent:
    match event:
        case TranscriptHeard(speaker, text):
            return TranscriptOut(speaker.value, text)
        case ToolRan(name, arguments, outcome, duration_ms):
            return ToolOut(name, arguments, outcome, duration_ms)
        case BargedIn():
            return BargeInOut()
        case AgentReconnected(attempt, reason):
            return AgentReconnectedOut(attempt, reason)
        case CallEnded(reason, next_step):
            return EndedOut(reason.value, next_step.value)


def encode_final_state(call: Call) -> str:
    """The `ended` event of a call that has ended, built from its stored record."""
    reason = call.end_reason.value if call.end_reason is not None else "unknown"
    return _encoder.encode(EndedOut(reason, call.next_step.value)).decode()


def encode_event(event: CallEvent) -> str:
    return _encoder.encode(to_feed(event)).decode()


def from_feed(event: AnyFeedEvent) -> CallEvent:
    """The application's event a feed frame stands for (`ValueError` for an unknown
    reason or step)."""
    match event:
        case TranscriptOut(speaker, text):
            return TranscriptHeard(Speaker(speaker), text)
        case ToolOut(name, arguments, outcome, duration_ms):
            return ToolRan(name, arguments, outcome, duration_ms)
        case BargeInOut():
            return BargedIn()
        case AgentReconnectedOut(attempt, reason):
            return AgentReconnected(attempt, reason)
        case EndedOut(reason, next_step):
            return CallEnded(EndReason(reason), NextStep(next_step))


def decode_event(frame: str | bytes) -> AnyFeedEvent:
    """Raises `msgspec.DecodeError` for a frame that is none of the feed's events."""
    event: AnyFeedEvent = _decoder.decode(frame)
    return event
