"""The live events feed across processes: this process's call events go out through the
`PostgresEventRelay`, and what other processes relay comes into the local broker."""

from __future__ import annotations

import logging

import msgspec

from adapters.sql.event_relay import Deliver, PostgresEventRelay
from application.calls.events import CallEvent
from entrypoints.http.call_event_broker import CallEventBroker
from entrypoints.http.call_feed import decode_event, encode_event, from_feed

log = logging.getLogger(__name__)


class RelayedFeed:
    """A `CallObserver` that relays each event to the other processes."""

    def __init__(self, relay: PostgresEventRelay) -> None:
        self._relay = relay

    def publish(self, call_id: str, event: CallEvent) -> None:
        self._relay.send(call_id, encode_event(event))


def into_broker(broker: CallEventBroker) -> Deliver:
    """The relay's `deliver`: a frame another process published, into our broker."""

    def deliver(call_id: str, payload: str) -> None:
        try:
            event = from_feed(decode_event(payload))
        except (msgspec.DecodeError, ValueError):
            log.debug("ignored a relayed event this version cannot read")
            return
        broker.publish(call_id, event)

    return deliver
