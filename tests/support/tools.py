"""The receptionist's tools wired to the real scheduling use cases, for tests.

The composition root's wiring, over whatever unit of work the test brings:
the in-memory fake or a SQL one; and the bits tool tests share (a caller's context, a
booking's arguments).
"""

from __future__ import annotations

import uuid
from typing import Any

from dependency_injector import providers

from application.ports import Clock, UnitOfWorkFactory
from application.receptionist.tools import CallContext, ReceptionistTools
from domain.scheduling import PhoneNumber, Practice
from entrypoints.container import Container
from tests.support.clock import FixedClock
from tests.support.fakes import InMemoryStore, fake_unit_of_work_factory
from tests.support.practice import MONDAY, NOW, make_practice, slot_at

CALL_ID = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
"""The call the tools run in."""

CALLER = "+14155550123"


def wired_tools(practice: Practice, uow: UnitOfWorkFactory, clock: Clock) -> ReceptionistTools:
    """The composition root's own `tools`, over the test's practice, clock and unit of work."""
    container = Container()
    container.practice.override(providers.Object(practice))
    container.clock.override(providers.Object(clock))
    container.unit_of_work.override(providers.Callable(uow))
    return container.tools()


def make_tools(
    store: InMemoryStore, practice: Practice | None = None, uow: Any = None
) -> ReceptionistTools:
    practice = practice or make_practice()
    uow = uow or fake_unit_of_work_factory(store)
    clock = FixedClock(NOW)
    return wired_tools(practice, uow, clock)


def context(phone: str | None = CALLER) -> CallContext:
    return CallContext(call_id=CALL_ID, caller_phone=PhoneNumber(phone) if phone else None)


def booking(hour: int = 10, name: str = "Ada Lovelace", **more: str) -> dict[str, str]:
    return {
        "slot_id": slot_at("dr-lee", MONDAY, hour),
        "service": "cleaning",
        "patient_name": name,
        **more,
    }
