"""The console's call and appointment pages show the webhook deliveries and texts about
them, read-only, over real HTTP against a real server (Postgres, a real webhook receiver,
the strict Twilio Messages stand-in)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from dependency_injector import providers
from pydantic import SecretStr
from tests.support.api_practice import api_practice
from tests.support.api_server import API_KEY, NOW, api_container, serve
from tests.support.clock import TickingClock
from tests.support.console_browser import STAFF_EMAIL, STAFF_PASSWORD, add_staff
from tests.support.fake_twilio_messaging import FakeTwilioMessaging
from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver

from adapters.sql import Database
from domain.scheduling import TextPolicy

ACCOUNT, TOKEN, SENDER = "AC" + "4" * 32, "token-0123456789abcdef", "+14155550100"
PATIENT = "+14155550123"


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def sms() -> Iterator[FakeTwilioMessaging]:
    with FakeTwilioMessaging(ACCOUNT, TOKEN, senders={SENDER}) as fake:
        yield fake


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture
def base_url(database_url: str, sms: FakeTwilioMessaging) -> Iterator[str]:
    container = api_container(
        database_url=database_url,
        clock=TickingClock(NOW),
        frontdesk_webhook_allow_private_urls=True,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=SecretStr(TOKEN),
        twilio_messaging_from=SENDER,
        twilio_api_base_url=sms.base_url,
    )
    practice = replace(api_practice(), texts=TextPolicy(reminder_before=timedelta(minutes=30)))
    container.practice.override(providers.Object(practice))
    with serve(container) as url:
        yield url


async def signed_in(browser: httpx.AsyncClient) -> None:
    form = await browser.get("/console/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed = await browser.post(
        "/console/login",
        data={"_csrf_token": token[1], "email": STAFF_EMAIL, "password": STAFF_PASSWORD},
    )
    assert signed.status_code == 303, signed.text


def section(html: str, table_id: str) -> list[list[str]]:
    """The rows of one table on the page, each as its cells' text (none when the section
    says it is empty)."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    if table is None:
        assert (
            f'id="{"webhooks" if table_id == "webhook-deliveries" else table_id}-heading"' in html
        )
        return []
    body = table[1].split("<tbody>", 1)[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def test_an_appointment_page_shows_its_webhook_deliveries_and_texts(
    base_url: str, database: Database, sms: FakeTwilioMessaging, receiver: WebhookReceiver
) -> None:
    await add_staff(database)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as api:
        subscribed = await api.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["appointment.booked", "appointment.cancelled"]},
        )
        assert subscribed.status_code == 201, subscribed.text
        slot = (await api.get("/api/v1/slots", params={"service": "checkup", "limit": 1})).json()
        booked = await api.post(
            "/api/v1/appointments",
            json={
                "slot_id": slot["items"][0]["id"],
                "service": "checkup",
                "patient_name": "Ada Lovelace",
                "patient_phone": PATIENT,
            },
        )
        assert booked.status_code == 201, booked.text
        appointment_id = booked.json()["id"]
        await asyncio.to_thread(receiver.next, 5)
        await asyncio.to_thread(sms.next_message, 5)
        # Each dispatcher records a round before starting the next: once the cancellation's
        # delivery and text arrive, the booking's are on record.
        cancelled = await api.post(f"/api/v1/appointments/{appointment_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        await asyncio.to_thread(receiver.next, 5)
        await asyncio.to_thread(sms.next_message, 5)

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as browser:
        await signed_in(browser)
        page = await browser.get(f"/console/appointments/{appointment_id}")

    assert page.status_code == 200, page.text
    deliveries = section(page.text, "webhook-deliveries")
    assert [row[0] for row in deliveries] == ["appointment.booked", "appointment.cancelled"]
    assert deliveries[0][2:4] == [receiver.url, "succeeded"]
    texts = section(page.text, "texts")
    assert [(row[0], row[3]) for row in texts[:2]] == [
        ("confirmation", "sent"),
        ("reminder", "voided"),
    ]
    assert texts[2][0] == "confirmation"
    assert all(row[1] == "+1******23" for row in texts)
    assert PATIENT not in str(texts)
