"""Call events end to end: a simulated phone call (Twilio played by the simulator,
Deepgram by the emulator, a real server, PostgreSQL) ends, and a real receiver gets the
signed `call.completed`; a call turned away gets `call.turned_away`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.e2e.phone_fixtures import phone_line
from tests.e2e.test_console_outbound import section, signed_in
from tests.support.console_browser import add_staff
from tests.support.deepgram_emulator import CallFunction, Say, Script, UserSays, WaitForClose
from tests.support.twilio_simulator import new_call
from tests.support.webhook_receiver import Received, WebhookReceiver, webhook_receiver
from tests.support.webhooks import signed_by

from adapters.sql import Database

CALLER = "+14155550123"


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as r:
        yield r


async def subscribe(api: httpx.AsyncClient, url: str, events: list[str]) -> str:
    response = await api.post("/api/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


async def arrival(receiver: WebhookReceiver) -> tuple[Received, dict[str, Any]]:
    received = await asyncio.to_thread(receiver.next, 10)
    body: dict[str, Any] = json.loads(received.body)
    return received, body


async def console_call_page(base_url: str, database_url: str, call_id: str) -> str:
    database = Database.from_url(database_url)
    try:
        await add_staff(database)
    finally:
        await database.dispose()
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as browser:
        await signed_in(browser)
        page = await browser.get(f"/console/calls/{call_id}")
    assert page.status_code == 200, page.text
    return page.text


async def test_a_phone_call_that_books_delivers_a_signed_call_completed_with_its_summary(
    database_url: str, receiver: WebhookReceiver
) -> None:
    async with phone_line(database_url) as probe:
        slot = (await probe.api.get("/api/v1/slots", params={"service": "cleaning"})).json()
    slot = slot["items"][0]
    script: Script = [
        UserSays("A cleaning, please."),
        CallFunction(
            "book_appointment",
            json.dumps(
                {"slot_id": slot["id"], "service": "cleaning", "patient_name": "Ada Lovelace"}
            ),
        ),
        Say("You're booked."),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    async with phone_line(database_url, script, frontdesk_webhook_allow_private_urls=True) as line:
        secret = await subscribe(line.api, receiver.url, ["call.completed"])
        call = new_call(from_number=CALLER)
        sim = await line.dial_in(call)
        await sim.wait_closed()
        session = await line.emulator.session(0)
        await session.wait_closed()
        booked = json.loads(session.function_responses[0].content)

        received, body = await arrival(receiver)
        record = await line.call_record(call.call_sid)
        by_url = await line.api.get(body["data"]["url"])
        console_page = await console_call_page(line.base_url, database_url, record["call"]["id"])

    assert signed_by(secret, received.headers, received.body)
    assert body["type"] == "call.completed"
    data = body["data"]
    appointment_id = booked["appointment"]["appointment_id"]
    assert data["call_id"] == record["call"]["id"]
    assert data["outcome"] == "completed"
    assert data["end_reason"] == "agent_ended"
    assert data["from"] == CALLER
    assert data["duration_s"] == 0  # the server runs on a fixed clock
    assert data["appointments"] == [{"appointment_id": appointment_id, "action": "booked"}]
    assert data["summary"] == (
        f"Booked a cleaning with {booked['appointment']['provider']} "
        f"on {booked['appointment']['time']}."
    )
    assert data["url"] == f"/api/v1/calls/{data['call_id']}"
    assert by_url.status_code == 200, by_url.text
    assert receiver.received == [received]  # one event per call
    deliveries = section(console_page, "webhook-deliveries")
    assert [(row[0], row[2]) for row in deliveries] == [("call.completed", receiver.url)]
    texts = section(console_page, "texts")  # texts are off on this server
    assert texts == []


async def test_a_call_turned_away_delivers_call_turned_away(
    database_url: str, receiver: WebhookReceiver
) -> None:
    async with phone_line(
        database_url, deepgram_key=None, frontdesk_webhook_allow_private_urls=True
    ) as line:
        secret = await subscribe(line.api, receiver.url, ["call.turned_away"])
        await line.ring(new_call(from_number=CALLER))
        received, body = await arrival(receiver)

    assert signed_by(secret, received.headers, received.body)
    assert body["type"] == "call.turned_away"
    assert body["data"]["outcome"] == "turned_away"
    assert body["data"]["end_reason"] == "agent_not_configured"
    assert body["data"]["appointments"] == []
    assert body["data"]["summary"] == "No appointments changed."
