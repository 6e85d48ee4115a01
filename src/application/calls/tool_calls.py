"""Running one tool call the agent asked for: bounded in time, and never raising into
the call (a timeout or a bug in a tool becomes a result the model can act on)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from application.ports import ToolCallRequested
from application.receptionist.tools import CallContext, ToolOutcome

log = logging.getLogger(__name__)


class ToolRunner(Protocol):
    """What the session needs of the tools: `ReceptionistTools` in production."""

    async def invoke(self, name: str, arguments: str, context: CallContext) -> ToolOutcome: ...


_TOOL_FAILED = (
    '{"ok":false,"error":"internal_error","message":"Something went wrong on our side.",'
    '"next":"Apologise and offer to transfer the caller, or to try again."}'
)

_TOOL_TIMED_OUT = (
    '{"ok":false,"error":"timeout","message":"The system is slow right now.",'
    '"next":"Apologise and offer to transfer the caller."}'
)


async def run_tool(
    tools: ToolRunner, request: ToolCallRequested, context: CallContext, *, timeout_s: float
) -> tuple[ToolOutcome, float]:
    """The tool's outcome and how long it took (ms); cancellation still propagates."""
    started = time.perf_counter()
    try:
        outcome = await asyncio.wait_for(
            tools.invoke(request.name, request.arguments, context), timeout=timeout_s
        )
    except TimeoutError:
        outcome = ToolOutcome(_TOOL_TIMED_OUT, "timeout")
    except Exception:
        # A bug in a tool must not leave the model waiting for a result forever.
        log.exception("tool %s failed", request.name)
        outcome = ToolOutcome(_TOOL_FAILED, "internal_error")
    return outcome, (time.perf_counter() - started) * 1000
