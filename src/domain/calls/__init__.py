"""Calls: one phone call's record, its turns and the tools the agent used."""

from domain.calls.call import (
    Call,
    CallStatus,
    EndReason,
    NextStep,
    Speaker,
    StreamRefused,
    ToolInvocation,
    Turn,
)

__all__ = [
    "Call",
    "CallStatus",
    "EndReason",
    "NextStep",
    "Speaker",
    "StreamRefused",
    "ToolInvocation",
    "Turn",
]
