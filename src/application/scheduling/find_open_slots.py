"""Use case: list open slots for a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from application.ports import Clock, UnitOfWorkFactory
from domain.scheduling import Practice, Slot, open_slots

MAX_SLOTS = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class FindOpenSlots:
    service_id: str
    provider_id: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    local_times: tuple[time, time] | None = None
    """Only slots starting at a local time (the practice's zone) in [first, second)."""
    limit: int = 20


class FindOpenSlotsHandler:
    """Open slots starting in the window, earliest first.

    Rules: the window defaults to now .. the booking horizon and is clipped to it;
    slots are the practice's grid minus closures, booked time and the past; at most
    `MAX_SLOTS` are returned. Reads only.
    """

    def __init__(self, practice: Practice, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._practice, self._uow, self._clock = practice, uow, clock

    async def __call__(self, command: FindOpenSlots) -> list[Slot]:
        practice, now = self._practice, self._clock.now()
        if command.provider_id is not None:
            practice.check_offers(command.provider_id, command.service_id)
            provider_ids = [command.provider_id]
        else:
            provider_ids = [p.id for p in practice.providers_for(command.service_id)]
        start = command.starts_from or now
        end = command.starts_before or now + practice.booking_horizon
        async with self._uow() as uow:
            busy = await uow.appointments.busy_between(provider_ids, max(start, now), end)
        return open_slots(
            practice,
            service_id=command.service_id,
            provider_id=command.provider_id,
            start=start,
            end=end,
            now=now,
            busy=busy,
            limit=min(command.limit, MAX_SLOTS),
            local_times=command.local_times,
        )
