"""Logs: one JSON object per line, the call sid on every line of a call, and never a
full phone number, an auth token or an API key."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from entrypoints.observability.logging import Redactor, bind_call, configure_logging

TOKEN = "tw-auth-token-0123456789abcdef"
API_KEY = "api-key-verysecret"


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(level="DEBUG", log_format="json", secrets=[TOKEN, API_KEY])
    yield capsys
    root.handlers, root.level = saved[0], saved[1]


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    err = capsys.readouterr().err
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_every_line_of_a_call_carries_its_carrier_reference(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    log = logging.getLogger("frontdesk.test")
    with bind_call("twilio", "CA0123456789abcdef0123456789abcdef"):
        log.info("agent connected")
        log.warning("tool slow")
    log.info("outside any call")
    records = lines(json_logs)
    assert [r.get("carrier_call_id") for r in records] == [
        "CA0123456789abcdef0123456789abcdef",
        "CA0123456789abcdef0123456789abcdef",
        None,
    ]
    assert records[0]["event"] == "agent connected"
    assert records[1]["level"] == "warning"


def test_phone_numbers_tokens_and_keys_never_reach_the_log(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    log = logging.getLogger("frontdesk.test")
    log.info("call from %s to %s", "+14155550123", "+12125550142")
    log.info("GET /api/v1/appointments?phone=%%2B14155550123 with Bearer %s", API_KEY)
    log.warning("signature check with token %s failed for (415) 555-0123", TOKEN)
    try:
        raise RuntimeError(f"connect failed, key={TOKEN}, caller +442079460018")
    except RuntimeError:
        log.exception("boom")
    text = json.dumps(lines(json_logs))
    for secret in ("4155550123", "2125550142", "555-0123", "2079460018", TOKEN, API_KEY):
        assert secret not in text
    assert "[phone ...23]" in text
    assert "[redacted]" in text


def test_webhook_secrets_are_redacted_wherever_they_appear() -> None:
    text = Redactor([]).text(
        "UPDATE webhook_subscriptions [parameters: ('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',)]"
    )

    assert "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" not in text
    assert "whsec_[redacted]" in text


def test_dates_times_and_sids_are_left_alone() -> None:
    redact = Redactor([])
    text = "booked 2026-12-01 at 09:00 for CA1234567890abcdef1234567890abcdef, 45 minutes"
    assert redact.text(text) == text


def test_a_call_ends_with_one_summary_line(json_logs: pytest.CaptureFixture[str]) -> None:
    from application.calls.events import CallEnded, SessionStats, ToolRan, TranscriptHeard
    from domain.calls import EndReason, NextStep, Speaker
    from entrypoints.observability.call_summary import CallSummaryLog

    summary = CallSummaryLog()
    summary.publish("CA1", TranscriptHeard(Speaker.AGENT, "Hello"))
    summary.publish("CA1", TranscriptHeard(Speaker.CALLER, "Hi"))
    summary.publish("CA1", ToolRan("check_available_slots", "{}", "ok", 4.2))
    stats = SessionStats(frames_in=500, frames_out=300, barge_ins=1, tool_calls=1)
    stats.agent_latencies_s.extend([0.8, 1.2])
    summary.publish(
        "CA1", CallEnded(EndReason.AGENT_ENDED, NextStep.HANG_UP, stats, duration_s=12.34)
    )
    (line,) = lines(json_logs)
    assert line["event"] == "call ended"
    assert {k: line[k] for k in ("call_id", "outcome", "duration_s", "turns", "tools")} == {
        "call_id": "CA1",
        "outcome": "agent_ended",
        "duration_s": 12.3,
        "turns": 2,
        "tools": 1,
    }
    assert line["barge_ins"] == 1
    assert line["agent_latency_avg_s"] == 1.0
