"""The console's live page while a simulated call runs: Twilio played by the simulator,
Deepgram by the emulator, the real server on a real port, Chromium watching."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from tests.e2e.phone_fixtures import phone_line
from tests.support.console_browser import add_staff, chromium, screenshot, signed_in
from tests.support.deepgram_emulator import CallFunction, Say, Script, UserSays, WaitForClose
from tests.support.twilio_simulator import new_call

from adapters.sql import Database


@pytest.fixture
def engine_name() -> str:
    return "postgres"


async def test_a_live_transcript_appears_while_the_call_runs_then_the_call_has_its_page(
    database: Database, database_url: str
) -> None:
    await add_staff(database)
    script: Script = [
        UserSays("I'd like a cleaning, please."),
        CallFunction("check_available_slots", '{"service": "cleaning", "date": "2030-12-03"}'),
        Say("I have nine o'clock tomorrow. Does that suit you?"),
        WaitForClose(),
    ]
    async with phone_line(database_url, script) as line, chromium() as browser:
        context = await browser.new_context(viewport={"width": 1100, "height": 800})
        try:
            page = await context.new_page()
            await signed_in(page, line.base_url)
            await page.get_by_role("link", name="Live").click()
            await expect(page.get_by_role("status")).to_have_text(
                "Connected: transcripts appear as people speak."
            )
            await expect(page.get_by_text("No calls in progress.")).to_be_visible()

            call = new_call(from_number="+14155550123")
            sim = await line.dial_in(call)
            live = page.locator("#live-calls")
            await expect(live).to_contain_text("Caller: I'd like a cleaning, please.")
            await expect(live).to_contain_text("Tool check_available_slots: ok")
            await expect(live).to_contain_text(
                "Receptionist: I have nine o'clock tomorrow. Does that suit you?"
            )
            await screenshot(page, "live")

            await sim.send_stop(then_close=False)
            await sim.wait_closed()
            await expect(live).to_contain_text("Call ended: caller hung up")
            await line.completed(call, duration_s=42)

            await page.get_by_role("link", name="Calls", exact=True).click()
            row = page.get_by_role("row").filter(has_text="+1******23")
            await expect(row).to_contain_text("42 s")
            await expect(row).to_contain_text("Caller hung up")
            await screenshot(page, "calls")
            await row.get_by_role("link").click()
            transcript = page.locator(".transcript")
            await expect(transcript).to_contain_text("Caller: I'd like a cleaning, please.")
            await expect(transcript).to_contain_text("Tool: check_available_slots")
            await page.get_by_text("Arguments and result").first.click()
            await expect(transcript).to_contain_text('"service": "cleaning"')
            await screenshot(page, "call")
        finally:
            await context.close()
