"""The console in a real browser: Debian's Chromium driven by Playwright (async API).

Playwright's own browser download cannot run here, so the system Chromium is launched by
path. Screenshots of each main page go to docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright, expect

from adapters.argon2 import Argon2PasswordHasher
from adapters.sql import Database, SqlAlchemyUnitOfWork
from application.staff.accounts import AddStaff, AddStaffHandler
from domain.staff import Role
from tests.support.api_server import NOW
from tests.support.clock import FixedClock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

STAFF_EMAIL = "ana@example.com"
STAFF_PASSWORD = "correct horse battery"


@asynccontextmanager
async def chromium(*extra_args: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def add_staff(
    database: Database, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD
) -> None:
    """An account made through the same use case as `frontdesk staff add`."""
    handler = AddStaffHandler(
        lambda: SqlAlchemyUnitOfWork(database), Argon2PasswordHasher(), FixedClock(NOW)
    )
    await handler(AddStaff(email=email, password=password, role=Role.ADMIN))


async def sign_in(
    page: Page, base_url: str, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD
) -> None:
    await page.goto(f"{base_url}/console/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def signed_in(page: Page, base_url: str) -> None:
    await sign_in(page, base_url)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
