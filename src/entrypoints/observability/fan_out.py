"""One `CallObserver` that hands each event to several (the live feed, the metrics)."""

from __future__ import annotations

from application.calls.events import CallEvent, CallObserver


class FanOut:
    def __init__(self, *observers: CallObserver) -> None:
        self._observers = observers

    def publish(self, call_id: str, event: CallEvent) -> None:
        for observer in self._observers:
            observer.publish(call_id, event)
