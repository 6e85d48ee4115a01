"""The in-process broker behind a call's events feed."""

from __future__ import annotations

import json

import pytest

from application.calls.events import (
    AgentReconnected,
    BargedIn,
    CallEnded,
    CallEvent,
    ToolRan,
    TranscriptHeard,
)
from domain.calls import EndReason, NextStep, Speaker
from entrypoints.http.call_event_broker import CallEventBroker
from entrypoints.http.call_feed import decode_event, encode_event, from_feed
from entrypoints.http.relayed_feed import into_broker


async def test_each_subscriber_gets_only_its_calls_events_in_order() -> None:
    broker = CallEventBroker()
    with broker.subscribe("CA1") as first, broker.subscribe("CA2") as other:
        broker.publish("CA1", TranscriptHeard(Speaker.CALLER, "hello"))
        broker.publish("CA1", BargedIn())
        assert [first.get_nowait(), first.get_nowait()] == [
            TranscriptHeard(Speaker.CALLER, "hello"),
            BargedIn(),
        ]
        assert other.empty()
    assert broker.subscriber_count("CA1") == 0


async def test_a_slow_subscriber_loses_its_oldest_events_and_never_blocks_the_call() -> None:
    broker = CallEventBroker(queue_events=2)
    with broker.subscribe("CA1") as queue:
        for text in ("one", "two", "three"):
            broker.publish("CA1", TranscriptHeard(Speaker.AGENT, text))
        assert [queue.get_nowait(), queue.get_nowait()] == [
            TranscriptHeard(Speaker.AGENT, "two"),
            TranscriptHeard(Speaker.AGENT, "three"),
        ]
    assert broker.dropped == 1


def test_publishing_with_no_subscriber_is_a_no_op() -> None:
    CallEventBroker().publish("CA1", BargedIn())


def test_events_go_out_as_one_json_object_each_tagged_by_type() -> None:
    assert json.loads(encode_event(TranscriptHeard(Speaker.CALLER, "hi"))) == {
        "type": "transcript",
        "speaker": "caller",
        "text": "hi",
    }
    assert json.loads(encode_event(ToolRan("end_call", "{}", "ok", 1.5))) == {
        "type": "tool",
        "name": "end_call",
        "arguments": "{}",
        "outcome": "ok",
        "duration_ms": 1.5,
    }
    assert json.loads(encode_event(BargedIn())) == {"type": "barge_in"}
    assert json.loads(encode_event(CallEnded(EndReason.TRANSFERRED, NextStep.TRANSFER))) == {
        "type": "ended",
        "reason": "transferred",
        "next_step": "transfer",
    }


async def test_a_subscriber_just_after_a_call_ended_finds_its_end_waiting() -> None:
    broker = CallEventBroker(recent_ends=1)
    broker.publish("CA1", CallEnded(EndReason.AGENT_ENDED, NextStep.HANG_UP))
    with broker.subscribe("CA1") as queue:
        assert queue.get_nowait() == CallEnded(EndReason.AGENT_ENDED, NextStep.HANG_UP)
    broker.publish("CA2", CallEnded(EndReason.TRANSFERRED, NextStep.TRANSFER))
    with broker.subscribe("CA1") as forgotten:  # only the most recent end is kept
        assert forgotten.empty()


@pytest.mark.parametrize(
    "event",
    [
        TranscriptHeard(Speaker.CALLER, "hi"),
        ToolRan("end_call", "{}", "ok", 1.5),
        BargedIn(),
        AgentReconnected(2, "socket closed"),
        CallEnded(EndReason.TRANSFERRED, NextStep.TRANSFER),
    ],
)
def test_an_event_relayed_as_its_feed_frame_comes_back_as_the_same_event(
    event: CallEvent,
) -> None:
    assert from_feed(decode_event(encode_event(event))) == event


def test_a_relayed_frame_reaches_local_subscribers_and_a_garbled_one_is_ignored() -> None:
    broker = CallEventBroker()
    deliver = into_broker(broker)
    with broker.subscribe("c1") as queue:
        deliver("c1", "not json")
        deliver("c1", '{"type":"ended","reason":"no_such_reason","next_step":"hang_up"}')
        deliver("c1", encode_event(BargedIn()))
        assert queue.get_nowait() == BargedIn()
        assert queue.empty()
