"""`frontdesk demo` and `frontdesk eval` as a newcomer and CI run them: real processes,
a real server on a real port, the real Twilio webhook and media stream, and the
scripted voice agent running the real tools against a real database."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.phone_fixtures import TWILIO_TOKEN
from tests.e2e.server_process import server_process
from tests.support.api_server import API_KEY
from tests.support.deepgram_emulator import (
    AwaitUserMessage,
    CallFunction,
    DeepgramEmulator,
    Say,
    WaitForClose,
)

from adapters.practice_file import load_practice
from adapters.scripted import resolve_day, resolve_slot
from entrypoints.dev_client.client import BytesSource, DevCall, DevCallOptions
from entrypoints.settings import DEFAULT_PRACTICE_FILE, SCENARIOS_DIR

FRONTDESK = [sys.executable, "-m", "entrypoints.cli"]
SHIPPED = SCENARIOS_DIR
ALL_TOOLS = {
    "check_available_slots",
    "book_appointment",
    "find_appointments",
    "reschedule_appointment",
    "cancel_appointment",
    "transfer_to_human",
    "end_call",
}


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No operator settings at all (no keys, no accounts), plus `extra`."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "PRACTICE_", "TWILIO_", "DEEPGRAM_", "FRONTDESK_"))
        and k not in {"VOICE_AGENT", "AGENT_SCRIPT", "LOG_LEVEL"}
    }
    return {**kept, **extra}


def frontdesk(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FRONTDESK, *args],
        cwd=tmp_path,
        env=env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=180,
    )


def scenario_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (SHIPPED / "book_checkup.toml").read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def test_demo_books_an_appointment_over_a_real_call_and_shows_where_to_see_it(
    tmp_path: Path,
) -> None:
    result = frontdesk(tmp_path, "demo", "--data-dir", str(tmp_path / "demo"))

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "SCRIPTED receptionist" in out
    assert "caller: (scripted) Hi, I'd like a checkup with Dr. Lee" in out
    assert " agent: (scripted) Hello, thank you for calling Bright Smile Dental" in out
    assert "tool: check_available_slots(" in out
    assert "-> ok" in out
    assert "tool: book_appointment(" in out
    assert "call ended: agent_ended; next step: hang_up" in out
    assert "Checkup with Dr. Maya Lee" in out
    assert "for Ada Lovelace (booked, by phone)" in out
    assert "curl -s -H 'Authorization: Bearer demo-" in out
    assert "/console/calls/" in out
    # Kept where asked: the appointment is in the demo's own embedded database.
    assert (tmp_path / "demo" / "frontdesk.sqlite3").exists()
    assert not (tmp_path / ".frontdesk").exists()


def test_eval_passes_every_shipped_scenario_and_they_use_every_tool(tmp_path: Path) -> None:
    result = frontdesk(tmp_path, "eval", "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert report["agent"] == "scripted"
    names = {s["name"] for s in report["scenarios"]}
    assert names == {
        "book a checkup",
        "move an appointment",
        "cancel an appointment",
        "ask for a person",
        "caller declines",
        "closed on Sunday",
    }
    transcript = "\n".join(line for s in report["scenarios"] for line in s["transcript"])
    assert {tool for tool in ALL_TOOLS if f"tool: {tool}(" in transcript} == ALL_TOOLS
    # The closed day is refused by the scheduling rules, not only by the script.
    assert "book_appointment" in transcript
    assert "-> slot_not_offered" in transcript


def test_a_failing_scenario_makes_eval_exit_1_with_what_differed(tmp_path: Path) -> None:
    wrong_day = scenario_with(
        tmp_path,
        "wrong_day.toml",
        'provider = "dr-lee", day = "next open tuesday" }]',
        'provider = "dr-lee", day = "next open friday" }]',
    )
    passing = SHIPPED / "transfer.toml"

    result = frontdesk(tmp_path, "eval", str(passing), str(wrong_day))

    assert result.returncode == 1, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith(("ask", "book"))]
    assert rows[0].split()[:5] == ["ask", "for", "a", "person", "pass"]
    assert "FAIL" in rows[1]
    assert "booked: expected checkup with dr-lee on Fri" in rows[1]
    assert "1 of 2 scenarios passed" in result.stdout
    assert "caller: (scripted) Hi, I'd like a checkup" in result.stdout  # the failed call


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("[expect]", "[expect]\nbooked_on = 1", "expect: unknown key 'booked_on'"),
        ('name = "end_call"', 'name = "hang_up"', "turn[2].tools[0].name: no tool 'hang_up'"),
        (
            'service = "checkup", provider = "dr-lee", day',
            'service = "whitening", provider = "dr-lee", day',
            "expect.booked[0].service: no service 'whitening'",
        ),
        ('day = "next open tuesday"', 'day = "soonish"', "'soonish' is not a day"),
    ],
    ids=["unknown-key", "unknown-tool", "unknown-service", "bad-day"],
)
def test_a_bad_scenario_file_is_one_error_line_naming_the_key(
    tmp_path: Path, old: str, new: str, error: str
) -> None:
    bad = scenario_with(tmp_path, "bad.toml", old, new)

    result = frontdesk(tmp_path, "eval", str(bad))

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {bad}: "), result.stderr
    assert error in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "scenarios passed" not in result.stdout  # nothing ran


async def test_eval_against_deepgram_sends_the_caller_lines_as_injected_user_messages(
    tmp_path: Path,
) -> None:
    practice = load_practice(DEFAULT_PRACTICE_FILE, None)
    today = datetime.now(practice.time_zone).date()
    tuesday = resolve_day("next open tuesday", today=today, practice=practice)
    slot = resolve_slot("dr-lee next open tuesday 09:00", today=today, practice=practice)
    book = {"slot_id": slot, "service": "checkup", "patient_name": "Ada Lovelace"}
    script = [
        AwaitUserMessage(1),
        CallFunction("check_available_slots", json.dumps({"service": "checkup"})),
        Say("Dr. Lee is free on Tuesday at nine. Shall I book it?"),
        AwaitUserMessage(2),
        CallFunction("book_appointment", json.dumps(book)),
        Say("You're booked."),
        AwaitUserMessage(3),
        CallFunction("end_call"),
        Say("Goodbye!"),
        WaitForClose(),
    ]
    async with DeepgramEmulator(api_key="dg-eval", script=script) as emulator:
        process = await asyncio.create_subprocess_exec(
            *FRONTDESK,
            "eval",
            "--agent",
            "deepgram",
            "--json",
            str(SHIPPED / "book_checkup.toml"),
            cwd=tmp_path,
            env=env(tmp_path, DEEPGRAM_API_KEY="dg-eval", DEEPGRAM_AGENT_URL=emulator.url),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
        session = await emulator.session(0)

    assert process.returncode == 0, stdout.decode() + stderr.decode()
    assert session.script_error is None
    assert session.injected_user_messages == [
        "Hi, I'd like a checkup with Dr. Lee next Tuesday morning, please.",
        "Yes please. My name is Ada Lovelace.",
        "No, that's all. Thanks!",
    ]
    assert [r.name for r in session.function_responses] == [
        "check_available_slots",
        "book_appointment",
        "end_call",
    ]
    report: dict[str, Any] = json.loads(stdout)
    assert report["agent"] == "deepgram"
    assert report["passed"] is True
    transcript = "\n".join(report["scenarios"][0]["transcript"])
    # The service reports each injected line back as the caller's words.
    assert "caller: Yes please. My name is Ada Lovelace." in transcript
    assert "(scripted)" not in transcript
    assert "booked" not in " ".join(report["scenarios"][0]["failures"])
    assert tuesday.weekday() == 1


def test_eval_against_deepgram_without_a_key_is_one_error_line(tmp_path: Path) -> None:
    result = frontdesk(tmp_path, "eval", "--agent", "deepgram")

    assert result.returncode == 1
    assert result.stderr == (
        "error: DEEPGRAM_API_KEY: not set -> set it to run the scenarios against Deepgram's agent\n"
    )


@pytest.fixture
def engine_name() -> str:
    return "postgres"


async def test_the_scripted_agent_serves_calls_on_postgres_and_the_record_says_scripted(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        DeepgramEmulator(api_key="unused") as emulator,
        server_process(
            database_url,
            emulator,
            tmp_path / "server.log",
            VOICE_AGENT="scripted",
            AGENT_SCRIPT_PAUSE_S="0.05",
        ) as server,
    ):
        options = DevCallOptions(
            server_url=server.line.base_url, auth_token=TWILIO_TOKEN, api_key=API_KEY
        )
        call = await asyncio.wait_for(DevCall(options, BytesSource(b"")).run(), 60)
        record = await server.line.call_record(call.call_sid)
        booked = (await server.line.api.get("/api/v1/appointments")).json()["items"]

    assert record["call"]["end_reason"] == "agent_ended"
    turns = record["turns"]
    assert turns
    assert all(t["text"].startswith("(scripted) ") for t in turns)
    assert [b["patient_name"] for b in booked] == ["Ada Lovelace"]
    assert booked[0]["call_id"] == record["call"]["id"]


async def test_demo_stay_keeps_serving_what_it_printed_until_ctrl_c(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *FRONTDESK,
        "demo",
        "--stay",
        cwd=tmp_path,
        env=env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    printed: list[str] = []
    try:
        async with asyncio.timeout(120):
            while not printed or "Ctrl-C stops it" not in printed[-1]:
                line = await process.stdout.readline()
                assert line, "the demo ended early:\n" + "".join(printed)
                printed.append(line.decode())
        curl = next(line for line in printed if "curl -s" in line).split()
        key, url = curl[5].removesuffix("'"), curl[6].strip("'")
        async with httpx.AsyncClient(timeout=10) as http:
            listed = await http.get(url, headers={"Authorization": f"Bearer {key}"})
        assert any("console sign-in: demo@example.com / " in line for line in printed)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        stdout, _ = await asyncio.wait_for(process.communicate(), 30)

    assert listed.status_code == 200
    assert [item["patient_name"] for item in listed.json()["items"]] == ["Ada Lovelace"]
    assert process.returncode == 0
    assert stdout.decode().strip().endswith("== stopped")
