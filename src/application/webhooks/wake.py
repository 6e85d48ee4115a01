"""A nudge from a committed unit of work to this process's webhook dispatcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


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


async def run_rounds(
    round_: Callable[[], Awaitable[bool]], wake: DeliveryWakeUp, poll_interval_s: float, what: str
) -> None:
    """Run `round_` until cancelled: again at once while it reports more work, otherwise
    after a poke or `poll_interval_s`. A failing round (storage down) is logged once per
    streak and tried again next time; it never ends the loop."""
    failing = False
    while True:
        wake.clear()  # before the round: a commit during it wakes the next one
        try:
            busy = await round_()
            failing = False
        except Exception:
            if not failing:
                log.warning("%s failed; retrying", what, exc_info=True)
            failing, busy = True, False
        if not busy:
            await wake.wait(poll_interval_s)
