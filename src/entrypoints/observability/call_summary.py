"""One log line per call when it ends: outcome, duration, turns, tools, barge-ins, latency."""

from __future__ import annotations

import logging
from collections import Counter

from application.calls.events import CallEnded, CallEvent, ToolRan, TranscriptHeard

log = logging.getLogger("frontdesk.calls")


class CallSummaryLog:
    """A `CallObserver` counting each call's turns and tools, logging them at its end."""

    def __init__(self) -> None:
        self._turns: Counter[str] = Counter()
        self._tools: Counter[str] = Counter()

    def publish(self, call_id: str, event: CallEvent) -> None:
        match event:
            case TranscriptHeard():
                self._turns[call_id] += 1
            case ToolRan():
                self._tools[call_id] += 1
            case CallEnded(reason, next_step, stats, duration_s):
                latencies = stats.agent_latencies_s
                log.info(
                    "call ended",
                    extra={
                        "call_id": call_id,
                        "outcome": reason.value,
                        "next_step": next_step.value,
                        "duration_s": round(duration_s, 1) if duration_s is not None else None,
                        "turns": self._turns.pop(call_id, 0),
                        "tools": self._tools.pop(call_id, 0),
                        "barge_ins": stats.barge_ins,
                        "agent_reconnects": stats.agent_reconnects,
                        "frames_in": stats.frames_in,
                        "frames_out": stats.frames_out,
                        "agent_latency_avg_s": (
                            round(sum(latencies) / len(latencies), 3) if latencies else None
                        ),
                    },
                )
            case _:
                pass
