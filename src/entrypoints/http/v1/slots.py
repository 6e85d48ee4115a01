"""GET /api/v1/slots: open slots for a service."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from application.scheduling import FindOpenSlots, FindOpenSlotsHandler
from domain.scheduling import Practice
from entrypoints.http.links import LIST_SLOTS, SLOT_LINKS, with_links
from entrypoints.http.params import parse_instant
from entrypoints.http.problems import UNAUTHORIZED, UNAVAILABLE, UNPROCESSABLE
from entrypoints.http.schemas import SlotList, SlotOut

_WINDOW = "ISO 8601 date-time or date; without an offset it is read in the practice's time zone."


@get(
    "/slots",
    operation_id=LIST_SLOTS,
    operation_class=with_links(200, SLOT_LINKS),
    summary="Open slots for a service, earliest first",
    description="The window defaults to now until the booking horizon and is clipped to it.",
    tags=["slots"],
    responses={**UNAUTHORIZED, **UNPROCESSABLE, **UNAVAILABLE},
)
async def list_slots(
    practice: NamedDependency[Practice],
    find_open_slots: NamedDependency[FindOpenSlotsHandler],
    service: Annotated[
        str, QueryParameter(min_length=1, max_length=64, description="A service id, e.g. cleaning")
    ],
    provider: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
    starts_from: Annotated[
        str | None, QueryParameter(name="from", max_length=40, description=f"Inclusive. {_WINDOW}")
    ] = None,
    starts_before: Annotated[
        str | None,
        QueryParameter(
            name="to", max_length=40, description=f"Exclusive; a date means its end. {_WINDOW}"
        ),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 20,
) -> SlotList:
    zone = practice.time_zone
    slots = await find_open_slots(
        FindOpenSlots(
            service_id=service,
            provider_id=provider,
            starts_from=parse_instant(starts_from, field="from", zone=zone, end=False),
            starts_before=parse_instant(starts_before, field="to", zone=zone, end=True),
            limit=limit,
        )
    )
    return SlotList(items=[SlotOut.of(slot, zone) for slot in slots])
