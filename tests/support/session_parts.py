"""What the `CallSession` tests share: the call, fast limits, and tools a test can hold."""

from __future__ import annotations

import asyncio
import uuid

from application.calls.limits import SessionLimits
from application.receptionist.tools import CallContext, ReceptionistTools, ToolOutcome
from domain.calls import Call, CallStatus
from tests.support.practice import NOW
from tests.support.tools import CALLER

SID = "CA" + "0" * 32
CALL_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
FAST = SessionLimits(goodbye_timeout_s=2, tool_timeout_s=2, tool_drain_timeout_s=2, max_call_s=5)


class GatedTools:
    """The real tools, plus `wait_for_gate` (blocks until the test opens the gate, then
    books with the real tools) and `explode` (raises as a buggy tool would)."""

    def __init__(self, real: ReceptionistTools) -> None:
        self.real = real
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()
        self.cancelled = False

    async def invoke(self, name: str, arguments: str, context: CallContext) -> ToolOutcome:
        if name == "explode":
            raise RuntimeError("a bug in a tool")
        if name == "wait_for_gate":
            self.entered.set()
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            return await self.real.invoke("book_appointment", arguments, context)
        return await self.real.invoke(name, arguments, context)


def live_call() -> Call:
    """The call a session runs: answered, from `CALLER`."""
    return Call(
        id=CALL_ID,
        carrier="fake",
        carrier_call_id=SID,
        from_number=CALLER,
        to_number="+12125550100",
        started_at=NOW,
        status=CallStatus.IN_PROGRESS,
    )
