"""The console's live feed: every call's events, tagged with the call, and a stream that
ends when the instance drains so it never holds up a shutdown."""

from __future__ import annotations

import json

from application.calls.events import TranscriptHeard
from domain.calls import Speaker
from entrypoints.console.pages_calls import live_feed
from entrypoints.http.call_event_broker import CallEventBroker
from entrypoints.http.capacity import CallCapacity


async def test_the_feed_carries_every_calls_events_after_ready_and_stops_when_draining() -> None:
    broker, capacity = CallEventBroker(), CallCapacity(max_calls=2)
    feed = live_feed(broker, capacity, keep_alive_s=0.05)

    ready = await anext(feed)
    assert ready.event == "ready"
    broker.publish("CA1", TranscriptHeard(Speaker.CALLER, "hello"))
    broker.publish("CA2", TranscriptHeard(Speaker.AGENT, "hi there"))
    first, second = await anext(feed), await anext(feed)
    assert json.loads(str(first.data)) == {
        "call": "CA1",
        "type": "transcript",
        "speaker": "caller",
        "text": "hello",
    }
    assert json.loads(str(second.data))["call"] == "CA2"

    capacity.start_draining()
    rest = [message async for message in feed]
    assert all(m.comment == "keep-alive" for m in rest)
    broker.publish("CA1", TranscriptHeard(Speaker.CALLER, "unheard"))  # nobody watching


async def test_the_feed_ends_after_its_lifetime_so_the_browser_reconnects() -> None:
    feed = live_feed(
        CallEventBroker(), CallCapacity(max_calls=1), keep_alive_s=0.01, lifetime_s=0.05
    )
    messages = [message async for message in feed]
    assert messages[0].event == "ready"
    assert messages[0].retry == 1000
