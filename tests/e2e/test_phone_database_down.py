"""With the database out of reach, a caller still gets a person, never an error tone."""

from __future__ import annotations

import socket

from tests.e2e.phone_fixtures import FRONT_DESK, TWILIO_TOKEN, phone_line
from tests.support.twilio_simulator import (
    call_params,
    new_call,
    parse_twiml,
    post_signed,
    post_voice_webhook,
)


def unreachable_database_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+asyncpg://nobody:nothing@127.0.0.1:{port}/frontdesk"


async def test_the_webhook_puts_the_caller_through_when_the_database_is_down() -> None:
    async with phone_line(unreachable_database_url()) as line:
        call = new_call(from_number="+14155550123")
        response = await post_voice_webhook(
            line.api, f"{line.base_url}/twilio/voice", TWILIO_TOKEN, call
        )
        assert response.status_code == 200
        reply = parse_twiml(response.text)
        assert reply.stream_url is None
        assert reply.dial_number == FRONT_DESK
        assert reply.says, "the caller hears an apology first"

        after = await post_signed(
            line.api,
            f"{line.base_url}/twilio/after-stream",
            call_params(call, "in-progress"),
            TWILIO_TOKEN,
        )
        assert after.status_code == 200
        assert parse_twiml(after.text).dial_number == FRONT_DESK

        ready = await line.api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unreachable"
        assert line.emulator.sessions == []
