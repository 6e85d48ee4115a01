"""The console's softphone entry against a real server on a real port: who may place a
call and open its socket, what the agent is asked to hear, and how the call shows in
the console. The page is played by the strict simulator; the agent by the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from tests.e2e.phone_fixtures import PhoneLine, phone_line
from tests.support.browser_softphone import SimulatedSoftphone, SoftphoneUser
from tests.support.console_browser import STAFF_EMAIL, STAFF_PASSWORD, add_staff
from tests.support.deepgram_emulator import Script, WaitForClose
from websockets.exceptions import InvalidStatus

from adapters.sql import Database

GREETING_BYTES = 1600


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@asynccontextmanager
async def softphone_line(
    database: Database, database_url: str, script: Script = (), **settings: Any
) -> AsyncIterator[PhoneLine]:
    await add_staff(database)
    await add_staff(database, email="bo@example.com")
    async with phone_line(database_url, script, **settings) as line:
        yield line


async def signed_in_user(line: PhoneLine, email: str = STAFF_EMAIL) -> SoftphoneUser:
    user = SoftphoneUser(line.base_url)
    await user.sign_in(email, STAFF_PASSWORD)
    return user


async def placed(user: SoftphoneUser) -> dict[str, Any]:
    response = await user.place()
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def socket_for(user: SoftphoneUser | None, admitted: dict[str, Any], **kwargs: Any) -> Any:
    media = (user or SoftphoneUser("http://unused")).media_url(admitted["media_path"])
    return SimulatedSoftphone(
        media, user=user, call=admitted["call"], token=admitted["token"], **kwargs
    )


async def test_a_browser_call_is_heard_and_answered_in_16_khz_linear_pcm(
    database: Database, database_url: str
) -> None:
    async with softphone_line(database, database_url, [WaitForClose()]) as line:
        user = await signed_in_user(line)
        sim = socket_for(user, await placed(user))
        await sim.connect()
        await sim.wait_for_audio(GREETING_BYTES)
        await sim.send_audio(bytes(640 * 5))
        session = await line.emulator.session(0)
        await session.wait_until(lambda: session.audio_bytes >= 640 * 5)
        assert session.settings is not None
        audio = session.settings.audio
        assert audio.input is not None
        assert audio.output is not None
        assert (audio.input.encoding, audio.input.sample_rate) == ("linear16", 16000)
        assert (audio.output.encoding, audio.output.sample_rate) == ("linear16", 16000)
        await sim.send_stop()
        sim.assert_no_violations()
        assert sim.end is not None
        assert sim.end.outcome == "hang_up"


def assert_no_agent_heard_it(line: Any) -> None:
    """At most the agent opened ahead when the call was placed (pre-connect), and it was
    never handed the refused socket: not a byte of audio reached it."""
    assert len(line.emulator.sessions) <= 1
    assert [s.audio_bytes for s in line.emulator.sessions] in ([], [0])


async def test_a_socket_from_another_origin_is_refused_even_with_a_session(
    database: Database, database_url: str
) -> None:
    async with softphone_line(database, database_url, [WaitForClose()]) as line:
        user = await signed_in_user(line)
        sim = socket_for(user, await placed(user), origin="https://evil.example")
        with pytest.raises(InvalidStatus) as refused:
            await sim.connect()
        assert refused.value.response.status_code == 403
        assert_no_agent_heard_it(line)


async def test_one_sessions_token_does_not_open_a_call_on_another_sessions_socket(
    database: Database, database_url: str
) -> None:
    async with softphone_line(database, database_url, [WaitForClose()]) as line:
        ana, bo = await signed_in_user(line), await signed_in_user(line, "bo@example.com")
        sim = socket_for(bo, await placed(ana))
        await sim.connect()
        await sim.wait_closed()
        assert sim.close_code == 1008
        assert sim.received == []
        assert_no_agent_heard_it(line)


async def test_placing_a_call_needs_a_signed_in_session(
    database: Database, database_url: str
) -> None:
    async with softphone_line(database, database_url) as line:
        async with httpx.AsyncClient(base_url=line.base_url) as anonymous:
            response = await anonymous.post("/console/softphone/calls")
        assert response.status_code == 403  # the CSRF check comes first
        assert (await line.api.get("/api/v1/calls")).json()["items"] == []


async def test_with_no_agent_configured_the_page_is_told_why_and_where_a_caller_would_go(
    database: Database, database_url: str
) -> None:
    async with softphone_line(database, database_url, deepgram_key=None) as line:
        body = await placed(await signed_in_user(line))
        assert body["status"] == "turned_away"
        assert body["outcome"] == "transfer"
        assert "not available" in body["message"]


async def test_a_browser_call_shows_in_the_consoles_calls_as_a_browser_call(
    database: Database, database_url: str
) -> None:
    async with softphone_line(database, database_url, [WaitForClose()]) as line:
        user = await signed_in_user(line)
        sim = socket_for(user, await placed(user))
        await sim.connect()
        await sim.wait_for_audio(GREETING_BYTES)
        await sim.send_stop()
        assert sim.call_id is not None
        async with httpx.AsyncClient(base_url=line.base_url, cookies=user.cookies) as page:
            calls = await page.get("/console/calls")
            detail = await page.get(f"/console/calls/{sim.call_id}")
        assert "Browser call" in calls.text
        assert "a***@example.com (browser)" in calls.text
        assert "Browser call" in detail.text
        record = (await line.api.get(f"/api/v1/calls/{sim.call_id}")).json()["call"]
        assert (record["carrier"], record["carrier_status"]) == ("browser", "completed")
        assert record["from_number"] == "browser:a***@example.com"
