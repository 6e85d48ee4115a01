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
from tests.support.metrics_text import sample, scrape_when
from tests.support.twilio_simulator import sign

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


PUBLIC = "https://frontdesk.example"


def text_in(api: httpx.Client, body: str, *, token: str = TOKEN) -> httpx.Response:
    """A patient's text reaching `POST /twilio/messages`, signed as Twilio signs it (over
    the public URL the server is configured with)."""
    params = {
        "MessageSid": "SM" + "7" * 32,
        "AccountSid": ACCOUNT,
        "From": "+14155550123",
        "To": SENDER,
        "Body": body,
    }
    signature = sign(f"{PUBLIC}/twilio/messages", params, token)
    return api.post("/twilio/messages", data=params, headers={"X-Twilio-Signature": signature})


def test_a_patient_who_texts_stop_gets_no_more_texts_and_they_show_as_skipped(
    database_url: str, sms: FakeTwilioMessaging
) -> None:
    container = api_container(
        database_url=database_url,
        clock=TickingClock(NOW),
        public_url=PUBLIC,
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
        forged = text_in(api, "STOP", token="not-the-token")
        assert forged.status_code == 403
        stop = text_in(api, "Stop")
        assert stop.status_code == 200, stop.text
        assert stop.headers["content-type"].startswith("application/xml")

        slots = api.get("/api/v1/slots", params={"service": "checkup", "limit": 2}).json()
        for slot, phone in zip(slots["items"], ["(415) 555-0123", "+14155550199"], strict=True):
            response = api.post(
                "/api/v1/appointments",
                json={
                    "slot_id": slot["id"],
                    "service": "checkup",
                    "patient_name": "Ada Lovelace",
                    "patient_phone": phone,
                },
            )
            assert response.status_code == 201, response.text

        message = sms.next_message(timeout_s=3)  # the opted-out text was handled first
        # The provider has the text; the dispatcher counts it once the answer is back.
        metrics = scrape_when(
            lambda: api.get("/metrics").text, "frontdesk_texts_total", 1, outcome="sent"
        )

    assert message.to == "+14155550199"
    assert sms.messages == [message]
    assert sample(metrics, "frontdesk_texts_total", outcome="skipped") == 1
    assert sample(metrics, "frontdesk_texts_total", outcome="sent") == 1


def test_an_incoming_text_without_a_sender_is_a_clear_400(
    database_url: str, sms: FakeTwilioMessaging
) -> None:
    container = api_container(
        database_url=database_url, public_url=PUBLIC, twilio_auth_token=SecretStr(TOKEN)
    )
    with serve(container) as base_url, httpx.Client(base_url=base_url, timeout=10) as api:
        params = {"Body": "STOP", "From": "not a number"}
        signature = sign(f"{PUBLIC}/twilio/messages", params, TOKEN)
        response = api.post(
            "/twilio/messages", data=params, headers={"X-Twilio-Signature": signature}
        )

    assert response.status_code == 400
    assert response.text == "From is not a phone number"
