"""The staff console in Chromium against a real server on a real port, PostgreSQL behind.

Every wait is Playwright's own (it retries a check until it holds), never a sleep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from tests.support.api_server import API_KEY, api_container, serve
from tests.support.console_browser import (
    STAFF_EMAIL,
    STAFF_PASSWORD,
    add_staff,
    chromium,
    screenshot,
    sign_in,
    signed_in,
)

from adapters.sql import Database

# 2030-12-02 is the fixed clock's Monday: the practice (New York) opens at 09:00 local.
TEN_AM = "dr-lee@2030-12-02T15:00Z"
TWO_PM = "dr-lee@2030-12-02T19:00Z"


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def base_url(database_url: str) -> Iterator[str]:
    with serve(api_container(database_url=database_url)) as url:
        yield url


@pytest.fixture
async def chrome() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def console(chrome: Browser, base_url: str, database: Database) -> AsyncIterator[Page]:
    """A fresh browser context per test; closed before the server stops."""
    await add_staff(database)
    context = await chrome.new_context(viewport={"width": 1100, "height": 800})
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
async def api(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    ) as client:
        yield client


async def book(api: httpx.AsyncClient, slot_id: str, name: str = "Ada Lovelace") -> dict[str, Any]:
    response = await api.post(
        "/api/v1/appointments",
        json={
            "slot_id": slot_id,
            "service": "cleaning",
            "patient_name": name,
            "patient_phone": "(415) 555-0123",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_cleaning_slots(api: httpx.AsyncClient) -> list[str]:
    response = await api.get(
        "/api/v1/slots",
        params={
            "service": "cleaning",
            "provider": "dr-lee",
            "from": "2030-12-02",
            "to": "2030-12-02",
        },
    )
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["items"]]


async def test_a_wrong_password_is_refused_and_the_right_one_opens_the_page_asked_for(
    console: Page, base_url: str
) -> None:
    await console.goto(f"{base_url}/console/calls")
    await expect(console).to_have_url(f"{base_url}/console/login?next=%2Fconsole%2Fcalls")
    await screenshot(console, "login")

    await console.get_by_label("Email").fill(STAFF_EMAIL)
    await console.get_by_label("Password").fill("not the password")
    await console.get_by_role("button", name="Sign in").click()
    await expect(console.get_by_role("alert")).to_have_text("Wrong email or password.")

    await console.get_by_label("Password").fill(STAFF_PASSWORD)
    await console.get_by_role("button", name="Sign in").click()
    await expect(console).to_have_url(f"{base_url}/console/calls")
    await expect(console.get_by_role("heading", level=1)).to_contain_text("Calls")


async def test_sign_in_works_from_the_keyboard_alone(console: Page, base_url: str) -> None:
    await console.goto(f"{base_url}/console/login")
    await console.keyboard.press("Tab")  # the skip link
    await console.keyboard.press("Tab")
    await expect(console.get_by_label("Email")).to_be_focused()
    await console.keyboard.type(STAFF_EMAIL)
    await console.keyboard.press("Tab")
    await expect(console.get_by_label("Password")).to_be_focused()
    await console.keyboard.type(STAFF_PASSWORD)
    await console.keyboard.press("Enter")
    await expect(console).to_have_url(f"{base_url}/console/schedule")


async def test_an_api_booking_shows_on_the_schedule_and_cancelling_it_frees_the_slot(
    console: Page, base_url: str, api: httpx.AsyncClient
) -> None:
    booked = await book(api, TEN_AM)
    assert TEN_AM not in await open_cleaning_slots(api)
    await signed_in(console, base_url)

    lee = console.get_by_role("region", name="Dr. Lee")
    await expect(lee.get_by_role("link", name="10:00-11:00 Ada Lovelace Cleaning")).to_be_visible()
    await expect(lee.get_by_role("list", name="Free times for Dr. Lee")).not_to_contain_text(
        "10:00"
    )
    await screenshot(console, "schedule")

    await lee.get_by_role("link", name="10:00-11:00 Ada Lovelace Cleaning").click()
    await expect(console).to_have_url(f"{base_url}/console/appointments/{booked['id']}")
    await screenshot(console, "appointment")
    await console.get_by_role("button", name="Cancel this appointment").click()
    await expect(console.get_by_role("status")).to_have_text(
        "The appointment is cancelled; its time is free again."
    )

    assert (await api.get(f"/api/v1/appointments/{booked['id']}")).json()["status"] == "cancelled"
    assert TEN_AM in await open_cleaning_slots(api)


async def test_moving_into_a_slot_taken_meanwhile_says_so_and_books_nothing_twice(
    console: Page, base_url: str, api: httpx.AsyncClient
) -> None:
    booked = await book(api, TEN_AM)
    await signed_in(console, base_url)
    await console.goto(f"{base_url}/console/appointments/{booked['id']}")
    await console.get_by_label("14:00 · Dr. Lee").check()
    await book(api, TWO_PM, name="Grace Hopper")  # someone else is quicker

    await console.get_by_role("button", name="Move the appointment").click()
    await expect(console.get_by_role("alert")).to_have_text(
        "Sorry, that time has just been taken. Choose another time."
    )
    at_two = (
        await api.get(
            "/api/v1/appointments",
            params={"status": "booked", "from": "2030-12-02T14:00", "to": "2030-12-02T14:01"},
        )
    ).json()["items"]
    assert [a["patient_name"] for a in at_two] == ["Grace Hopper"]
    assert (await api.get(f"/api/v1/appointments/{booked['id']}")).json()["slot_id"] == TEN_AM

    await console.get_by_label("13:00 · Dr. Lee").check()
    await console.get_by_role("button", name="Move the appointment").click()
    await expect(console.get_by_role("status")).to_have_text("The appointment has moved.")
    assert (await api.get(f"/api/v1/appointments/{booked['id']}")).json()["slot_id"] == (
        "dr-lee@2030-12-02T18:00Z"
    )


async def test_a_form_sent_without_its_csrf_token_is_refused(
    console: Page, base_url: str, api: httpx.AsyncClient
) -> None:
    booked = await book(api, TEN_AM)
    await signed_in(console, base_url)
    await console.goto(f"{base_url}/console/appointments/{booked['id']}")
    await console.locator("input[name=_csrf_token]").evaluate_all(
        "inputs => inputs.forEach(input => input.remove())"
    )
    await console.get_by_role("button", name="Cancel this appointment").click()

    await expect(console.get_by_role("heading", level=1)).to_have_text("The form expired")
    assert (await api.get(f"/api/v1/appointments/{booked['id']}")).json()["status"] == "booked"


async def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(
    console: Page, base_url: str
) -> None:
    for _ in range(5):
        await sign_in(console, base_url, password="guessing wrong again")
        await expect(console.get_by_role("alert")).to_have_text("Wrong email or password.")

    await sign_in(console, base_url)
    await expect(console.get_by_role("alert")).to_contain_text(
        "Too many failed sign-ins for this account or from this address. Try again in"
    )
    await expect(console).to_have_url(f"{base_url}/console/login")


async def test_five_failures_from_one_address_lock_out_other_accounts_too(
    console: Page, base_url: str
) -> None:
    for n in range(5):
        await sign_in(console, base_url, email=f"nobody{n}@example.com", password="whatever it is")
        await expect(console.get_by_role("alert")).to_have_text("Wrong email or password.")

    await sign_in(console, base_url)
    await expect(console.get_by_role("alert")).to_contain_text("Too many failed sign-ins")


async def test_a_staff_session_opens_no_api_route_and_an_api_key_opens_no_console_page(
    console: Page, base_url: str
) -> None:
    await signed_in(console, base_url)
    cookies = {c["name"]: c["value"] for c in await console.context.cookies()}
    assert "frontdesk_session" in cookies

    async with httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=10) as staff:
        assert (await staff.get("/console/schedule")).status_code == 200
        assert (await staff.get("/api/v1/practice")).status_code == 401
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    ) as integrator:
        refused = await integrator.get("/console/schedule")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/console/login")


async def test_signing_out_ends_the_session_for_good(console: Page, base_url: str) -> None:
    await signed_in(console, base_url)
    cookies = {c["name"]: c["value"] for c in await console.context.cookies()}
    await console.get_by_role("button", name="Sign out").click()
    await expect(console.get_by_role("status")).to_have_text("You are signed out.")

    async with httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=10) as stolen:
        assert (await stolen.get("/console/schedule")).status_code == 303


async def test_the_practice_page_shows_hours_providers_and_what_is_not_configured(
    console: Page, base_url: str
) -> None:
    await signed_in(console, base_url)
    await console.get_by_role("link", name="Practice").click()
    await expect(console.get_by_role("heading", level=1)).to_have_text("Test Dental")
    await expect(console.get_by_role("row", name="Monday")).to_contain_text(
        "09:00-12:00, 13:00-17:00"
    )
    await expect(console.get_by_role("heading", name="Dr. Patel")).to_be_visible()
    await expect(console.locator(".facts")).to_contain_text(
        "not configured — set TWILIO_AUTH_TOKEN"
    )
    await expect(console.locator(".facts")).to_contain_text(
        "Phone line (Telnyx)not configured — set TELNYX_PUBLIC_KEY"
    )
    await screenshot(console, "practice")


async def test_the_schedule_fits_a_phone_screen_and_moves_between_days(
    chrome: Browser, base_url: str, database: Database
) -> None:
    await add_staff(database)
    context = await chrome.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = await context.new_page()
        await signed_in(page, base_url)
        await page.get_by_role("link", name="Next day").click()
        await expect(page).to_have_url(f"{base_url}/console/schedule?date=2030-12-03")
        await page.get_by_role("link", name="Previous day").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Monday 02 December")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        await screenshot(page, "schedule-phone")

        await page.goto(f"{base_url}/console/schedule?date=12/03/2030")
        await expect(page.get_by_role("alert")).to_have_text(
            "The date must be a date written YYYY-MM-DD, e.g. 2030-12-02."
        )
    finally:
        await context.close()
