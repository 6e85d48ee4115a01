"""`WS /api/v1/calls/{sid}/events` for calls that are not live: a real server, Postgres,
and a real `websockets` client."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.e2e.phone_fixtures import TWILIO_TOKEN, phone_line
from tests.support.api_server import API_KEY
from tests.support.twilio_simulator import post_status_callback
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from entrypoints.dev_client.feed import events_url

AUTH = {"Authorization": f"Bearer {API_KEY}"}
RECV_TIMEOUT_S = 10
"""A bound, not a pause: without the fix the feed would wait for events forever."""


@pytest.fixture
def engine_name() -> str:
    return "postgres"


async def test_the_feed_of_a_call_that_does_not_exist_closes_with_4404(database_url: str) -> None:
    async with phone_line(database_url) as line:
        url = events_url(line.base_url, "CA" + "0" * 32)
        async with connect(url, additional_headers=AUTH, open_timeout=10) as feed:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(feed.recv(), RECV_TIMEOUT_S)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404
    assert closed.value.rcvd.reason == "No call with that id."


async def test_the_feed_of_an_ended_call_sends_its_final_state_and_closes_normally(
    database_url: str,
) -> None:
    async with phone_line(database_url) as line:
        call, _ = await line.ring()
        ended = await post_status_callback(
            line.api, f"{line.base_url}/twilio/status", TWILIO_TOKEN, call, duration_s=3
        )
        assert ended.status_code in (200, 204), ended.text
        url = events_url(line.base_url, call.call_sid)
        async with connect(url, additional_headers=AUTH, open_timeout=10) as feed:
            final = json.loads(await asyncio.wait_for(feed.recv(), RECV_TIMEOUT_S))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(feed.recv(), RECV_TIMEOUT_S)
    assert final == {"type": "ended", "reason": "caller_hung_up", "next_step": "hang_up"}
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1000
