"""Staff accounts, sign-in, sessions and the console's reads, on the SQL adapter with real
argon2id hashing, on both engines."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from adapters.argon2 import Argon2PasswordHasher
from adapters.sql import Database, SqlAlchemyUnitOfWork
from application.calls.touched_appointments import TouchedAppointmentsHandler
from application.scheduling import BookAppointment, CancelAppointment
from application.scheduling.day_schedule import DayScheduleHandler
from application.staff.accounts import (
    AddStaff,
    AddStaffHandler,
    ListStaffHandler,
    RemoveStaffHandler,
)
from application.staff.sessions import ResumeSessionHandler, SessionPolicy, SignOutHandler
from application.staff.sign_in import SignIn, SignInHandler, SignInRefused, SignInThrottled
from domain.calls import Call, ToolInvocation
from domain.scheduling import Channel
from domain.staff import (
    InvalidStaffInput,
    LoginThrottle,
    Role,
    StaffAccountExists,
    StaffAccountNotFound,
)
from domain.webhooks import EventSource
from tests.integration.conftest import Scheduling, booking, build_scheduling
from tests.support.clock import FixedClock
from tests.support.practice import MONDAY, NOW

PASSWORD = "correct horse battery"


def advance(clock: FixedClock, by: timedelta) -> None:
    clock.set(clock.now() + by)


class Staff:
    def __init__(self, database: Database) -> None:
        self.clock = FixedClock(NOW)
        hasher = Argon2PasswordHasher()

        def uow() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(database)

        self.add = AddStaffHandler(uow, hasher, self.clock)
        self.list = ListStaffHandler(uow)
        self.remove = RemoveStaffHandler(uow)
        self.sign_in = SignInHandler(uow, hasher, self.clock, LoginThrottle())
        self.resume = ResumeSessionHandler(uow, self.clock, SessionPolicy())
        self.sign_out = SignOutHandler(uow)

    def attempt(self, password: str, email: str = "ana@example.com", address: str = "10.0.0.1"):
        return self.sign_in(SignIn(email=email, password=password, client_address=address))


@pytest.fixture
def staff(database: Database) -> Staff:
    return Staff(database)


async def test_accounts_are_added_listed_and_removed_by_normalised_email(staff: Staff) -> None:
    await staff.add(AddStaff(email=" Ana@Example.COM ", password=PASSWORD, role=Role.ADMIN))
    await staff.add(AddStaff(email="bo@example.com", password=PASSWORD))
    with pytest.raises(StaffAccountExists):
        await staff.add(AddStaff(email="ana@example.com", password=PASSWORD))
    with pytest.raises(InvalidStaffInput, match="at least 12 characters"):
        await staff.add(AddStaff(email="cy@example.com", password="short"))

    accounts = await staff.list()
    assert [(a.email, a.role) for a in accounts] == [
        ("ana@example.com", Role.ADMIN),
        ("bo@example.com", Role.STAFF),
    ]
    assert all(a.password_hash.startswith("$argon2id$") for a in accounts)

    await staff.remove("ANA@example.com")
    assert [a.email for a in await staff.list()] == ["bo@example.com"]
    with pytest.raises(StaffAccountNotFound):
        await staff.remove("ana@example.com")


async def test_a_session_opens_until_sign_out_idleness_or_the_account_goes(staff: Staff) -> None:
    await staff.add(AddStaff(email="ana@example.com", password=PASSWORD))
    with pytest.raises(SignInRefused):
        await staff.attempt("wrong password here")

    first = await staff.attempt(PASSWORD)
    resumed = await staff.resume(first.token)
    assert resumed is not None
    assert resumed.email == "ana@example.com"
    assert await staff.resume(first.token + "x") is None

    await staff.sign_out(first.token)
    assert await staff.resume(first.token) is None

    second = await staff.attempt(PASSWORD)
    advance(staff.clock, timedelta(hours=11))
    assert await staff.resume(second.token) is not None  # used: idle time starts again
    advance(staff.clock, timedelta(hours=12))
    assert await staff.resume(second.token) is None

    third = await staff.attempt(PASSWORD)
    await staff.remove("ana@example.com")
    assert await staff.resume(third.token) is None


async def test_five_failures_throttle_the_account_and_the_address_for_fifteen_minutes(
    staff: Staff,
) -> None:
    await staff.add(AddStaff(email="ana@example.com", password=PASSWORD))
    for _ in range(5):
        with pytest.raises(SignInRefused):
            await staff.attempt("not it at all", address="10.0.0.1")
    with pytest.raises(SignInThrottled) as throttled:
        await staff.attempt(PASSWORD, address="10.0.0.2")  # the account, from elsewhere
    assert throttled.value.retry_after == timedelta(minutes=15)
    assert "Try again in 15 minutes." in throttled.value.message
    with pytest.raises(SignInThrottled):
        await staff.attempt("anything", email="bo@example.com", address="10.0.0.1")

    advance(staff.clock, timedelta(minutes=15))
    assert (await staff.attempt(PASSWORD, address="10.0.0.1")).account.email == "ana@example.com"


async def test_the_day_schedule_lists_bookings_and_free_starts_per_provider(
    database: Database,
) -> None:
    scheduling: Scheduling = build_scheduling(database)
    booked = await scheduling.book(booking(10))
    handler = DayScheduleHandler(scheduling.practice, scheduling.uow, scheduling.clock)

    plan = await handler(MONDAY)
    lee = next(p for p in plan.providers if p.provider.id == "dr-lee")
    assert [a.id for a in lee.appointments] == [booked.appointment.id]
    starts = {s.start for s in lee.free}
    assert booked.appointment.slot.start not in starts
    assert all(
        not s.overlaps(booked.appointment.slot.start, booked.appointment.slot.end) for s in lee.free
    )

    await scheduling.cancel(
        CancelAppointment(appointment_id=booked.appointment.id, source=EventSource.CONSOLE)
    )
    lee = next(p for p in (await handler(MONDAY)).providers if p.provider.id == "dr-lee")
    assert lee.appointments == []
    assert booked.appointment.slot.start in {s.start for s in lee.free}


FIRST = uuid.UUID("00000000-0000-4000-8000-0000000000f1")


async def test_a_calls_appointments_are_those_booked_in_it_and_those_its_tools_named(
    database: Database,
) -> None:
    scheduling = build_scheduling(database)
    in_call = await scheduling.book(
        BookAppointment(
            slot_id=booking(10).slot_id,
            service_id="cleaning",
            patient_name="Ada Lovelace",
            patient_phone="+14155550123",
            channel=Channel.PHONE,
            call_id=FIRST,
        )
    )
    earlier = await scheduling.book(booking(14))
    call = Call(
        id=FIRST,
        carrier="twilio",
        carrier_call_id="CA1",
        from_number="+14155550123",
        to_number="+1",
        started_at=NOW,
    )
    call.record_tool(
        ToolInvocation(
            "cancel_appointment",
            f'{{"appointment_id": "{earlier.appointment.id}"}}',
            "ok",
            "{}",
            NOW,
            3.0,
        )
    )
    other = Call(
        id=uuid.uuid4(),
        carrier="twilio",
        carrier_call_id="CA2",
        from_number="+14155550199",
        to_number="+1",
        started_at=NOW,
    )

    first, second = str(FIRST), str(other.id)
    touched = await TouchedAppointmentsHandler(scheduling.uow)({first: call, second: other})
    assert [a.id for a in touched[first]] == [in_call.appointment.id, earlier.appointment.id]
    assert touched[second] == []
