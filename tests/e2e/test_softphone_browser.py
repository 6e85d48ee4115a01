"""The "Try it" page in Chromium, with a fake microphone playing a WAV file: the page
places a real call, the agent (the Deepgram emulator) hears 16 kHz linear PCM and books
an appointment, and the call shows in the console as a browser call.

Every wait is Playwright's own or the emulator's condition, never a sleep.
"""

from __future__ import annotations

import json
import math
import struct
import wave
from pathlib import Path

import pytest
from playwright.async_api import expect
from tests.e2e.phone_fixtures import phone_line
from tests.support.console_browser import add_staff, chromium, screenshot, signed_in
from tests.support.deepgram_emulator import (
    CallFunction,
    ExpectAudio,
    Say,
    Script,
    UserSays,
    WaitForClose,
)

from adapters.sql import Database

HEARD_BYTES = 32000
"""One second of 16 kHz 16-bit audio: the page's microphone must reach the agent."""


@pytest.fixture
def engine_name() -> str:
    return "postgres"


def tone_wav(path: Path, seconds: float = 2.0, rate_hz: int = 48000) -> Path:
    """A 440 Hz tone, mono 16-bit: what the fake microphone plays (in a loop)."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate_hz)))
        for n in range(int(seconds * rate_hz))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes(frames)
    return path


async def test_a_call_from_the_try_it_page_books_an_appointment_and_shows_as_a_browser_call(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    await add_staff(database)
    async with phone_line(database_url) as probe:
        slots = await probe.api.get("/api/v1/slots", params={"service": "cleaning"})
        slot = slots.json()["items"][0]
    booking = {
        "slot_id": slot["id"],
        "service": "cleaning",
        "patient_name": "Grace Hopper",
        "patient_phone": "+14155550199",
    }
    script: Script = [
        ExpectAudio(HEARD_BYTES),
        UserSays("I'd like a cleaning, please."),
        CallFunction("book_appointment", json.dumps(booking)),
        Say("You're booked for a cleaning."),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    microphone = tone_wav(tmp_path / "caller.wav")
    fake_media = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    async with phone_line(database_url, script) as line, chromium(*fake_media) as browser:
        context = await browser.new_context(viewport={"width": 1100, "height": 800})
        try:
            page = await context.new_page()
            await signed_in(page, line.base_url)
            await page.get_by_role("link", name="Try it").click()
            await expect(page.get_by_role("status")).to_have_text("Ready: press Start call.")

            await page.get_by_role("button", name="Start call").focus()
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("button", name="Hang up")).to_be_focused()
            transcript = page.get_by_role("list", name="Transcript")
            await expect(transcript).to_contain_text("You: I'd like a cleaning, please.")
            await expect(transcript).to_contain_text("Tool book_appointment: ok")
            await expect(transcript).to_contain_text("Receptionist: You're booked for a cleaning.")
            await expect(page.get_by_role("status")).to_contain_text(
                "Call over. The call is hung up.", timeout=15000
            )
            await expect(page.get_by_role("button", name="Start call")).to_be_enabled()
            await screenshot(page, "softphone")

            session = line.emulator.sessions[0]
            assert session.settings is not None
            assert session.settings.audio.input is not None
            heard = session.settings.audio.input
            assert (heard.encoding, heard.sample_rate) == ("linear16", 16000)
            assert session.audio_bytes >= HEARD_BYTES

            found = await line.api.get("/api/v1/appointments", params={"phone": "+14155550199"})
            (appointment,) = found.json()["items"]
            assert appointment["slot_id"] == slot["id"]

            nav = page.get_by_role("navigation", name="Console")
            await nav.get_by_role("link", name="Calls", exact=True).click()
            row = page.get_by_role("row").filter(has_text="Browser call")
            await expect(row).to_contain_text("a***@example.com (browser)")
            await expect(row).to_contain_text("Grace Hopper")
            await expect(row).to_contain_text("Receptionist ended the call")
        finally:
            await context.close()
