"""Confirmation texts on both engines: written with the change, sent through Twilio's
Messages API (a strict local stand-in), retried or failed as Twilio's answer says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.sql import Database, SqlAlchemyUnitOfWork
from adapters.sql.tables import text_messages
from adapters.sql.text_queue import SqlAlchemyTextQueue
from adapters.twilio_rest.messaging import TwilioTextNotifier
from application.notifications import ConfirmationTexts, TextDispatcher
from application.ports import TextNotSent
from application.scheduling import (
    BookAppointmentHandler,
    CancelAppointment,
    CancelAppointmentHandler,
    RescheduleAppointment,
    RescheduleAppointmentHandler,
)
from application.webhooks import DeliveryWakeUp
from domain.scheduling import SlotTaken
from domain.webhooks import EventSource
from tests.integration.conftest import booking
from tests.support.clock import FixedClock
from tests.support.fake_twilio_messaging import FakeMessage, FakeTwilioMessaging
from tests.support.practice import MONDAY, NOW, make_practice, slot_at

ACCOUNT, TOKEN, SENDER = "AC" + "1" * 32, "token-abcdef0123456789", "+14155550100"
PATIENT = "+14155550123"


@pytest.fixture
def sms() -> Iterator[FakeTwilioMessaging]:
    with FakeTwilioMessaging(ACCOUNT, TOKEN, senders={SENDER}) as fake:
        yield fake


class Texting:
    def __init__(self, database: Database, sms: FakeTwilioMessaging) -> None:
        practice, self.clock = make_practice(), FixedClock(NOW)
        texts = ConfirmationTexts(practice)

        def uow() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(database)

        self.database = database
        self.book = BookAppointmentHandler(practice, uow, self.clock, texts=texts)
        self.cancel = CancelAppointmentHandler(uow, self.clock, texts=texts)
        self.reschedule = RescheduleAppointmentHandler(practice, uow, self.clock, texts=texts)
        notifier = TwilioTextNotifier(ACCOUNT, TOKEN, from_number=SENDER, base_url=sms.base_url)
        self.dispatcher = TextDispatcher(
            SqlAlchemyTextQueue(database), notifier, self.clock, DeliveryWakeUp()
        )

    async def rows(self) -> list[dict[str, object]]:
        async with self.database.engine.connect() as connection:
            rows = (await connection.execute(select(text_messages))).all()
        return [dict(row._mapping) for row in rows]


@pytest.fixture
def texting(database: Database, sms: FakeTwilioMessaging) -> Texting:
    return Texting(database, sms)


async def test_a_booking_texts_the_patient_a_confirmation(
    texting: Texting, sms: FakeTwilioMessaging
) -> None:
    await texting.book(booking(10))

    await texting.dispatcher.run_once()

    [message] = sms.messages
    assert message == FakeMessage(
        sid=message.sid,
        to=PATIENT,
        from_=SENDER,
        body="Test Dental: your cleaning with Dr. Lee is booked for Mon Nov 23 at 10 AM.",
    )
    [row] = await texting.rows()
    assert row["status"] == "sent"
    assert row["sent_id"] == message.sid


async def test_a_booking_the_database_refuses_texts_nobody(
    texting: Texting, sms: FakeTwilioMessaging
) -> None:
    await texting.book(booking(10))
    with pytest.raises(SlotTaken):
        await texting.book(booking(10, phone="+14155550199"))

    await texting.dispatcher.run_once()

    assert [m.to for m in sms.messages] == [PATIENT]
    assert len(await texting.rows()) == 1


async def test_a_move_and_a_cancellation_are_texted_too(
    texting: Texting, sms: FakeTwilioMessaging
) -> None:
    booked = (await texting.book(booking(10))).appointment
    await texting.reschedule(
        RescheduleAppointment(
            appointment_id=booked.id,
            slot_id=slot_at("dr-lee", MONDAY, 14, 30),
            source=EventSource.API,
        )
    )
    await texting.cancel(CancelAppointment(appointment_id=booked.id, source=EventSource.API))

    await texting.dispatcher.run_once()

    assert sorted(m.body for m in sms.messages) == [
        "Test Dental: your cleaning with Dr. Lee has moved to Mon Nov 23 at 2:30 PM.",
        "Test Dental: your cleaning with Dr. Lee is booked for Mon Nov 23 at 10 AM.",
        "Test Dental: your cleaning with Dr. Lee on Mon Nov 23 at 2:30 PM is cancelled.",
    ]


async def test_a_text_twilio_fails_to_take_is_sent_again_30_seconds_later(
    texting: Texting, sms: FakeTwilioMessaging
) -> None:
    await texting.book(booking(10))
    sms.fail_next(503)

    await texting.dispatcher.run_once()
    await texting.dispatcher.run_once()  # not due yet
    assert (sms.requests, sms.messages) == (1, [])
    texting.clock.set(NOW + timedelta(seconds=30))
    await texting.dispatcher.run_once()

    assert [m.to for m in sms.messages] == [PATIENT]
    [row] = await texting.rows()
    assert row["status"] == "sent"
    assert row["failed_attempts"] == 1


async def test_a_recipient_twilio_refuses_fails_at_once_without_retries(
    texting: Texting, sms: FakeTwilioMessaging
) -> None:
    sms.opted_out.add(PATIENT)
    await texting.book(booking(10))

    await texting.dispatcher.run_once()
    texting.clock.set(NOW + timedelta(hours=2))
    await texting.dispatcher.run_once()

    assert sms.requests == 1
    [row] = await texting.rows()
    assert row["status"] == "failed"
    assert row["last_error"] == "Twilio refused the message: HTTP 400, code 21610"
    assert row["next_attempt_at"] is None


async def test_the_twilio_adapter_reports_refusals_as_permanent_and_outages_as_transient(
    sms: FakeTwilioMessaging,
) -> None:
    def notifier(**overrides: str) -> TwilioTextNotifier:
        args = {"token": TOKEN, "from_number": SENDER, "base_url": sms.base_url} | overrides
        return TwilioTextNotifier(
            ACCOUNT, args["token"], from_number=args["from_number"], base_url=args["base_url"]
        )

    refusals = [
        (notifier(token="wrong"), PATIENT, "code 20003"),
        (notifier(from_number="+14155550999"), PATIENT, "code 21606"),
        (notifier(), "4155550123", "code 21211"),
    ]
    for sender, to, code in refusals:
        with pytest.raises(TextNotSent) as refused:
            await sender.send_text(to, "hello")
        assert refused.value.permanent
        assert code in refused.value.reason

    sms.fail_next(500, 429)
    for _ in range(2):
        with pytest.raises(TextNotSent) as failed:
            await notifier().send_text(PATIENT, "hello")
        assert not failed.value.permanent

    unreachable = notifier(base_url="http://127.0.0.1:9")
    with pytest.raises(TextNotSent) as lost:
        await unreachable.send_text(PATIENT, "hello")
    assert not lost.value.permanent
    assert lost.value.reason.startswith("could not reach Twilio")
    assert sms.messages == []
