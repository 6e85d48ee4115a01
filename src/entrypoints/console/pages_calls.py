"""Calls: the list, one call's transcript with its tool calls, and the live page fed by
the in-process events broker over server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from application.ports import CallQuery
from domain.calls import CallStatus
from entrypoints.console.call_fields import call_ref
from entrypoints.console.outbound_views import outbound_views
from entrypoints.console.rendering import page
from entrypoints.console.views import AppointmentView, CallView, timeline
from entrypoints.http.call_event_broker import CallEventBroker
from entrypoints.http.call_feed import encode_event
from entrypoints.http.capacity import CallCapacity
from entrypoints.http.v1.calls import find_call

if TYPE_CHECKING:
    from entrypoints.container import Container

CALLS_PER_PAGE = 50
KEEP_ALIVE_S = 15.0
"""A comment line this often keeps proxies from closing an idle live feed."""
FEED_LIFETIME_S = 600.0
RECONNECT_MS = 1000


def calls_handlers(container: Container) -> list[HTTPRouteHandler]:
    @get("/calls")
    async def calls(
        request: Request[Any, Any, Any],
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=100_000)] = 1,
    ) -> Template:
        number = page_number
        found = await container.list_calls()(
            CallQuery(limit=CALLS_PER_PAGE, offset=(number - 1) * CALLS_PER_PAGE)
        )
        practice, now = container.practice(), container.clock().now()
        touched = await container.touched_appointments()({call_ref(c): c for c in found.items})
        rows = [
            {
                "call": CallView.of(c, practice.time_zone),
                "appointments": [
                    AppointmentView.of(a, practice, now) for a in touched[call_ref(c)]
                ],
            }
            for c in found.items
        ]
        return page(
            request,
            "calls.html",
            rows=rows,
            page_number=number,
            previous=number - 1 if number > 1 else None,
            next=number + 1 if number * CALLS_PER_PAGE < found.total else None,
            total=found.total,
        )

    @get("/calls/{ref:str}")
    async def call(request: Request[Any, Any, Any], ref: FromPath[str]) -> Template:
        found = await find_call(container.get_call(), ref[:64])
        practice, now = container.practice(), container.clock().now()
        touched = await container.touched_appointments()({call_ref(found): found})
        appointments = touched[call_ref(found)]
        history = await container.outbound_history()(
            subjects=[found.id], appointments=[a.id for a in appointments]
        )
        return page(
            request,
            "call.html",
            call=CallView.of(found, practice.time_zone),
            entries=timeline(found, practice.time_zone),
            appointments=[AppointmentView.of(a, practice, now) for a in appointments],
            outbound=outbound_views(history, practice.time_zone),
        )

    @get("/live")
    async def live(request: Request[Any, Any, Any]) -> Template:
        found = await container.list_calls()(
            CallQuery(status=CallStatus.IN_PROGRESS, limit=CALLS_PER_PAGE)
        )
        zone = container.practice().time_zone
        return page(request, "live.html", calls=[CallView.of(c, zone) for c in found.items])

    @get("/live/events", sync_to_thread=False)
    def live_events() -> ServerSentEvent:
        """Every call this instance carries, event by event, as `{"call": ref, ...event}`.

        Calls on other instances are not seen: the broker is per process.
        """
        return ServerSentEvent(live_feed(container.call_events(), container.call_capacity()))

    return [calls, call, live, live_events]


async def live_feed(
    broker: CallEventBroker,
    capacity: CallCapacity,
    *,
    keep_alive_s: float = KEEP_ALIVE_S,
    lifetime_s: float = FEED_LIFETIME_S,
) -> AsyncIterator[ServerSentEventMessage]:
    """`ready`, then every call's events as `call` messages, until the client leaves.

    The stream also ends once the instance drains (SIGTERM) or after `lifetime_s`: an
    open stream would otherwise hold up the server's shutdown, which waits for responses
    to finish. The browser's EventSource reconnects by itself (`retry`).
    """
    deadline = asyncio.get_running_loop().time() + lifetime_s
    with broker.watch_all() as queue:
        # Subscribed before this first event: a page that saw it misses nothing after.
        yield ServerSentEventMessage(data="{}", event="ready", retry=RECONNECT_MS)
        while not capacity.draining:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            try:
                ref, event = await asyncio.wait_for(queue.get(), min(keep_alive_s, remaining))
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            payload = {"call": ref, **json.loads(encode_event(event))}
            yield ServerSentEventMessage(data=json.dumps(payload), event="call")
