"""Confirmation texts end to end: a booking over the REST API reaches the patient's phone
through the Twilio Messages API (a strict local stand-in) within seconds."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from tests.support.api_server import API_KEY, NOW, api_container, serve
from tests.support.clock import TickingClock
from tests.support.fake_twilio_messaging import FakeTwilioMessaging

ACCOUNT, TOKEN, SENDER = "AC" + "2" * 32, "token-0123456789abcdef", "+14155550100"


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def sms() -> Iterator[FakeTwilioMessaging]:
    with FakeTwilioMessaging(ACCOUNT, TOKEN, senders={SENDER}) as fake:
        yield fake


def test_a_booking_over_the_api_texts_the_patient(
    database_url: str, sms: FakeTwilioMessaging
) -> None:
    container = api_container(
        database_url=database_url,
        clock=TickingClock(NOW),
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=SecretStr(TOKEN),
        twilio_messaging_from=SENDER,
        twilio_api_base_url=sms.base_url,
    )
    with (
        serve(container) as base_url,
        httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        ) as api,
    ):
        slot = api.get("/api/v1/slots", params={"service": "checkup", "limit": 1}).json()
        response = api.post(
            "/api/v1/appointments",
            json={
                "slot_id": slot["items"][0]["id"],
                "service": "checkup",
                "patient_name": "Ada Lovelace",
                "patient_phone": "(415) 555-0123",
            },
        )
        assert response.status_code == 201, response.text

        message = sms.next_message(timeout_s=3)

    assert message.to == "+14155550123"
    assert message.from_ == SENDER
    assert message.body == "Test Dental: your checkup with Dr. Lee is booked for Mon Dec 2 at 9 AM."
