"""Texts through Telnyx end to end: a booking over the REST API reaches the patient via
the Messaging API v2 (a strict local stand-in); a patient's STOP arrives at
`POST /telnyx/messages`, Ed25519-signed, and their texts are skipped from then on."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from tests.support.api_server import API_KEY, NOW, api_container, serve
from tests.support.clock import TickingClock
from tests.support.fake_telnyx_messaging import FakeTelnyxMessaging
from tests.support.metrics_text import sample, scrape_when
from tests.support.telnyx_simulator import SIGNATURE_HEADER, TIMESTAMP_HEADER, TelnyxKeys

KEY, SENDER = "KEY-telnyx-0123456789", "+14155550100"


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def telnyx() -> Iterator[FakeTelnyxMessaging]:
    with FakeTelnyxMessaging(KEY, senders={SENDER}) as fake:
        yield fake


@pytest.fixture
def keys() -> TelnyxKeys:
    return TelnyxKeys()


@pytest.fixture
def api(database_url: str, telnyx: FakeTelnyxMessaging, keys: TelnyxKeys) -> Iterator[httpx.Client]:
    container = api_container(
        database_url=database_url,
        clock=TickingClock(NOW),
        telnyx_public_key=keys.public_key_b64,
        telnyx_api_key=SecretStr(KEY),
        telnyx_messaging_from=SENDER,
        telnyx_api_base_url=telnyx.base_url,
    )
    with (
        serve(container) as base_url,
        httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        ) as client,
    ):
        yield client


def message_event(sender: str, text: str, kind: str = "message.received") -> dict[str, Any]:
    return {
        "data": {
            "event_type": kind,
            "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
            "occurred_at": "2030-12-02T13:00:00.000+00:00",
            "payload": {
                "direction": "inbound",
                "from": {"phone_number": sender, "carrier": "T-Mobile USA"},
                "to": [{"phone_number": SENDER, "status": "webhook_delivered"}],
                "text": text,
                "type": "SMS",
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/telnyx/messages"},
    }


def post_event(
    api: httpx.Client, keys: TelnyxKeys, event: dict[str, Any], *, forged: bool = False
) -> httpx.Response:
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    signature = keys.sign(stamp, body) if not forged else TelnyxKeys().sign(stamp, body)
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature,
    }
    return api.post("/telnyx/messages", content=body, headers=headers)


def book(api: httpx.Client, phone: str) -> None:
    """The first open checkup, for `phone`."""
    slots = api.get("/api/v1/slots", params={"service": "checkup", "limit": 1}).json()
    response = api.post(
        "/api/v1/appointments",
        json={
            "slot_id": slots["items"][0]["id"],
            "service": "checkup",
            "patient_name": "Ada Lovelace",
            "patient_phone": phone,
        },
    )
    assert response.status_code == 201, response.text


def test_a_booking_is_texted_through_telnyx_and_a_stop_there_skips_later_texts(
    api: httpx.Client, keys: TelnyxKeys, telnyx: FakeTelnyxMessaging
) -> None:
    book(api, "+14155550123")
    first = telnyx.next_message(timeout_s=3)
    assert (first.to, first.from_) == ("+14155550123", SENDER)
    assert first.text == "Test Dental: your checkup with Dr. Lee is booked for Mon Dec 2 at 9 AM."

    stop = message_event("+14155550123", "STOP")
    assert post_event(api, keys, stop, forged=True).status_code == 403
    assert post_event(api, keys, stop).status_code == 204
    book(api, "+14155550123")
    book(api, "+14155550199")
    last = telnyx.next_message(timeout_s=3)  # the opted-out text was handled first
    # Telnyx has the text; the dispatcher counts it once the answer is back.
    metrics = scrape_when(
        lambda: api.get("/metrics").text, "frontdesk_texts_total", 2, outcome="sent"
    )

    assert last.to == "+14155550199"
    assert telnyx.messages == [first, last]
    assert sample(metrics, "frontdesk_texts_total", outcome="skipped") == 1
    assert sample(metrics, "frontdesk_texts_total", outcome="sent") == 2


def test_other_message_events_are_acknowledged_and_bad_ones_get_a_clear_400(
    api: httpx.Client, keys: TelnyxKeys
) -> None:
    finalized = message_event("+14155550123", "STOP", kind="message.finalized")
    assert post_event(api, keys, finalized).status_code == 204

    not_an_event = post_event(api, keys, {"hello": "world"})
    assert (not_an_event.status_code, not_an_event.text) == (
        400,
        "not a Telnyx event (data.event_type missing)",
    )
    bad_sender = post_event(api, keys, message_event("nobody", "STOP"))
    assert bad_sender.status_code == 400
    assert bad_sender.text == "payload.from.phone_number is not a phone number"
