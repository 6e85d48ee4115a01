"""A nudge from a committed unit of work to this process's webhook dispatcher."""

from __future__ import annotations

import asyncio


class DeliveryWakeUp:
    """The unit of work calls `poke` after committing outbox events; the dispatcher
    `wait`s on it between rounds, so a delivery starts at once instead of at the next
    poll. Events committed by other processes are found by polling."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def poke(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout_s: float) -> bool:
        """True if poked, False if `timeout_s` passed first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._event.wait()
        except TimeoutError:
            return False
        return True
