"""Running one scenario: a fresh embedded database and a local server, the given
appointments booked, one call placed as Twilio places it, then the checks."""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from application.scheduling import BookAppointment, FindAppointments
from domain.scheduling import Appointment, Channel, Practice, SchedulingError
from entrypoints.dev_client.client import BytesSource, DevCall, DevCallOptions
from entrypoints.dev_client.feed import EndedEvent, ToolEvent, TranscriptEvent
from entrypoints.evals.caller_lines import CallerLinesAgent
from entrypoints.evals.checks import check
from entrypoints.evals.scenario import Scenario
from entrypoints.local_server import LocalServer, local_server
from entrypoints.settings import Settings

SCRIPTED_PAUSE_S = 0.05
CALL_TIMEOUT_S = {"scripted": 60.0, "deepgram": 120.0}
"""A call still going after this long is hung up (and its checks will say so)."""


@dataclass(slots=True)
class ScenarioResult:
    name: str
    path: str
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    transcript: str = ""
    """What the call printed: its live feed, line by line."""

    @property
    def passed(self) -> bool:
        return not self.failures


async def run_scenario(scenario: Scenario, settings: Settings, agent: str) -> ScenarioResult:
    started = time.perf_counter()
    result = ScenarioResult(scenario.name, str(scenario.path))
    with tempfile.TemporaryDirectory(prefix="frontdesk-eval-") as data_dir:
        scenario_settings = _settings(settings, Path(data_dir), scenario, agent)
        async with local_server(scenario_settings) as server:
            await _call_and_check(server, scenario, agent, result)
    result.seconds = round(time.perf_counter() - started, 2)
    return result


def _settings(settings: Settings, data_dir: Path, scenario: Scenario, agent: str) -> Settings:
    return settings.model_copy(
        update={
            "database_url": None,
            "frontdesk_data_dir": data_dir,
            "voice_agent": agent,
            "agent_script": scenario.path,
            "agent_script_pause_s": SCRIPTED_PAUSE_S,
            "twilio_auth_token": SecretStr("eval-" + data_dir.name),
            "twilio_auth_token_secondary": None,
            "twilio_messaging_from": None,
            "telnyx_public_key": None,
            "frontdesk_api_keys": [SecretStr("eval-key-" + data_dir.name)],
            "dev": False,
        }
    )


async def _call_and_check(
    server: LocalServer, scenario: Scenario, agent: str, result: ScenarioResult
) -> None:
    container = server.container
    practice = container.practice()
    today = container.clock().now().astimezone(practice.time_zone).date()
    if agent != "scripted":
        wrapped = CallerLinesAgent(container.voice_agent(), scenario.script.caller_lines)
        container.voice_agent.override(wrapped)
    try:
        await _book_given(server, scenario, practice, today)
    except SchedulingError as error:
        result.failures = [f"given: could not book an appointment before the call: {error.message}"]
        return
    settings = container.settings()
    token, key = settings.twilio_auth_token, settings.frontdesk_api_keys[0]
    assert token is not None
    out = io.StringIO()
    call = DevCall(
        DevCallOptions(
            server_url=server.base_url,
            public_url=server.base_url,
            auth_token=token.get_secret_value(),
            api_key=key.get_secret_value(),
            from_number=scenario.caller_phone,
        ),
        BytesSource(b""),
        out=out,
    )
    hang_up = asyncio.Event()
    timer = asyncio.get_running_loop().call_later(CALL_TIMEOUT_S[agent], hang_up.set)
    try:
        finished = await call.run(hang_up)
    finally:
        timer.cancel()
        result.transcript = out.getvalue()
    appointments = await _all_appointments(server)
    said = [
        e.text for e in finished.events if isinstance(e, TranscriptEvent) and e.speaker == "agent"
    ]
    tools = [e.name for e in finished.events if isinstance(e, ToolEvent)]
    ended = next((e for e in finished.events if isinstance(e, EndedEvent)), None)
    result.failures = check(
        scenario.expect,
        practice=practice,
        today=today,
        appointments=appointments,
        agent_said=said,
        tools_called=tools,
        ended=ended,
        caller_hung_up=finished.hung_up,
    )


async def _book_given(
    server: LocalServer, scenario: Scenario, practice: Practice, today: date
) -> None:
    from adapters.scripted import resolve_slot

    book = server.container.book_appointment()
    for given in scenario.given:
        slot = resolve_slot(
            f"{given.provider} {given.day} {given.time}", today=today, practice=practice
        )
        await book(
            BookAppointment(
                slot_id=slot,
                service_id=given.service,
                patient_name=given.patient_name,
                patient_phone=scenario.caller_phone,
                channel=Channel.API,
            )
        )


async def _all_appointments(server: LocalServer) -> list[Appointment]:
    page = await server.container.find_appointments()(FindAppointments(limit=200))
    return list(page.items)
