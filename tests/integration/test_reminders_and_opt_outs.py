"""Reminder texts and opt-outs on both engines, on an injected clock: a reminder is
scheduled through the outbox with the booking, sent once at its time (by whichever
dispatcher runs then, after a restart too), voided when the appointment is cancelled or
moved; a number that texted STOP gets nothing, and its texts show as skipped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.sql import Database, SqlAlchemyUnitOfWork
from adapters.sql.tables import text_messages
from adapters.sql.text_queue import SqlAlchemyTextQueue
from adapters.twilio_rest.messaging import TwilioTextNotifier
from application.notifications import (
    ConfirmationTexts,
    IncomingText,
    OptOutChange,
    RecordOptOutHandler,
    TextDispatcher,
)
from application.scheduling import (
    BookAppointmentHandler,
    CancelAppointment,
    CancelAppointmentHandler,
    RescheduleAppointment,
    RescheduleAppointmentHandler,
)
from application.webhooks import DeliveryWakeUp
from domain.scheduling import TextPolicy
from domain.webhooks import EventSource
from tests.integration.conftest import booking
from tests.support.clock import FixedClock
from tests.support.fake_twilio_messaging import FakeTwilioMessaging
from tests.support.practice import MONDAY, NOW, make_practice, slot_at

ACCOUNT, TOKEN, SENDER = "AC" + "3" * 32, "token-0123456789abcdef", "+14155550100"
PATIENT = "+14155550123"
MONDAY_10AM = NOW + timedelta(days=3)  # Mon Nov 23, 10:00 in New York
REMINDER = "Test Dental: reminder: your cleaning with Dr. Lee is on Mon Nov 23 at 10 AM."


@pytest.fixture
def sms() -> Iterator[FakeTwilioMessaging]:
    with FakeTwilioMessaging(ACCOUNT, TOKEN, senders={SENDER}) as fake:
        yield fake


class Counted:
    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def text_attempted(self, outcome: str) -> None:
        self.outcomes.append(outcome)


class Office:
    """The practice's scheduling use cases with 24-hour reminders, and a dispatcher that
    can be "restarted" (built again over a new connection pool)."""

    def __init__(self, database: Database, sms: FakeTwilioMessaging) -> None:
        practice = replace(make_practice(), texts=TextPolicy(reminder_before=timedelta(hours=24)))
        self.clock, self.database, self.sms = FixedClock(NOW), database, sms
        texts = ConfirmationTexts(practice)

        def uow() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(database)

        self.book = BookAppointmentHandler(practice, uow, self.clock, texts=texts)
        self.cancel = CancelAppointmentHandler(uow, self.clock, texts=texts)
        self.reschedule = RescheduleAppointmentHandler(practice, uow, self.clock, texts=texts)
        self.opt_out = RecordOptOutHandler(uow, self.clock, default_region="US")
        self.observer = Counted()
        self.dispatcher = self.new_dispatcher(database)

    def new_dispatcher(self, database: Database) -> TextDispatcher:
        notifier = TwilioTextNotifier(
            ACCOUNT, TOKEN, from_number=SENDER, base_url=self.sms.base_url
        )
        return TextDispatcher(
            SqlAlchemyTextQueue(database),
            notifier,
            self.clock,
            DeliveryWakeUp(),
            observer=self.observer,
        )

    async def rows(self) -> list[tuple[str, str]]:
        """(kind, status) of every text, by due time."""
        async with self.database.engine.connect() as connection:
            rows = await connection.execute(
                select(text_messages.c.kind, text_messages.c.status).order_by(
                    text_messages.c.created_at, text_messages.c.kind
                )
            )
            return [(row.kind, row.status) for row in rows]

    def bodies(self) -> list[str]:
        return [m.body for m in self.sms.messages]


@pytest.fixture
def office(database: Database, sms: FakeTwilioMessaging) -> Office:
    return Office(database, sms)


async def test_a_reminder_goes_once_24_hours_before_even_after_a_restart(
    office: Office, database_url: str
) -> None:
    await office.book(booking(10))
    await office.dispatcher.run_once()
    office.clock.set(MONDAY_10AM - timedelta(hours=24, seconds=1))
    await office.dispatcher.run_once()
    assert len(office.bodies()) == 1  # the confirmation only

    restarted = Database.from_url(database_url)
    try:
        dispatcher = office.new_dispatcher(restarted)
        office.clock.set(MONDAY_10AM - timedelta(hours=24))
        await dispatcher.run_once()
        office.clock.set(MONDAY_10AM - timedelta(hours=1))
        await dispatcher.run_once()
        await office.dispatcher.run_once()
    finally:
        await restarted.dispose()

    assert office.bodies()[1:] == [REMINDER]
    assert sorted(await office.rows()) == [("confirmation", "sent"), ("reminder", "sent")]


async def test_a_cancellation_voids_the_reminder(office: Office) -> None:
    booked = (await office.book(booking(10))).appointment
    await office.cancel(CancelAppointment(appointment_id=booked.id, source=EventSource.API))

    office.clock.set(MONDAY_10AM - timedelta(hours=2))
    await office.dispatcher.run_once()

    assert not any("reminder" in body for body in office.bodies())
    assert ("reminder", "voided") in await office.rows()


async def test_a_move_voids_the_old_reminder_and_schedules_one_for_the_new_time(
    office: Office,
) -> None:
    booked = (await office.book(booking(10))).appointment
    await office.reschedule(
        RescheduleAppointment(
            appointment_id=booked.id,
            slot_id=slot_at("dr-lee", MONDAY, 14, 30),
            source=EventSource.API,
        )
    )

    office.clock.set(MONDAY_10AM - timedelta(hours=24))
    await office.dispatcher.run_once()
    assert not any("reminder" in body for body in office.bodies())
    office.clock.set(MONDAY_10AM - timedelta(hours=19))  # past 24 h before 2:30 PM
    await office.dispatcher.run_once()

    assert [b for b in office.bodies() if "reminder" in b] == [
        "Test Dental: reminder: your cleaning with Dr. Lee is on Mon Nov 23 at 2:30 PM."
    ]
    reminders = [status for kind, status in await office.rows() if kind == "reminder"]
    assert sorted(reminders) == ["sent", "voided"]


async def test_a_booking_inside_the_reminder_window_gets_no_reminder(office: Office) -> None:
    office.clock.set(MONDAY_10AM - timedelta(hours=23))

    await office.book(booking(10))

    assert await office.rows() == [("confirmation", "pending")]


async def test_a_number_that_texted_stop_gets_nothing_and_its_texts_show_as_skipped(
    office: Office,
) -> None:
    assert await office.opt_out(IncomingText(from_number="(415) 555-0123", body=" stop ")) == (
        OptOutChange.OPTED_OUT
    )
    await office.book(booking(10))
    office.clock.set(MONDAY_10AM - timedelta(hours=2))
    await office.dispatcher.run_once()

    assert office.sms.messages == []
    assert sorted(await office.rows()) == [("confirmation", "skipped"), ("reminder", "skipped")]
    assert office.observer.outcomes == ["skipped", "skipped"]


async def test_start_lets_texts_through_again_and_other_messages_change_nothing(
    office: Office,
) -> None:
    await office.opt_out(IncomingText(from_number=PATIENT, body="UNSUBSCRIBE"))
    await office.opt_out(IncomingText(from_number=PATIENT, body="QUIT"))  # stays opted out
    unchanged = await office.opt_out(
        IncomingText(from_number=PATIENT, body="I need to cancel my appointment")
    )
    assert unchanged is OptOutChange.NONE
    assert await office.opt_out(IncomingText(from_number=PATIENT, body="Start")) == (
        OptOutChange.OPTED_IN
    )

    await office.book(booking(10))
    await office.dispatcher.run_once()

    assert [m.to for m in office.sms.messages] == [PATIENT]
    assert office.observer.outcomes == ["sent"]
