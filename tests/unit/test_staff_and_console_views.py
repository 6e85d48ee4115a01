"""Staff rules (emails, passwords, sessions, the sign-in throttle) and the console's
pure view helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.staff import (
    InvalidStaffInput,
    LoginThrottle,
    StaffSession,
    check_password,
    normalise_email,
)
from entrypoints.console.security import safe_next
from entrypoints.console.views import duration_text, mask_number

T0 = datetime(2030, 12, 2, 13, 0, tzinfo=UTC)


def test_emails_are_compared_without_case_or_surrounding_blanks() -> None:
    assert normalise_email("  Ana@Example.COM ") == "ana@example.com"
    with pytest.raises(InvalidStaffInput):
        normalise_email("not an email")


def test_a_password_needs_twelve_characters() -> None:
    check_password("x" * 12)
    with pytest.raises(InvalidStaffInput, match="at least 12"):
        check_password("x" * 11)


def test_a_session_expires_after_idle_time_or_its_lifetime_whichever_first() -> None:
    session = StaffSession(token_digest="d", email="a@b.co", created_at=T0, last_seen_at=T0)
    idle, lifetime = timedelta(hours=12), timedelta(days=7)
    assert not session.is_expired(T0 + timedelta(hours=11), idle=idle, lifetime=lifetime)
    assert session.is_expired(T0 + timedelta(hours=12), idle=idle, lifetime=lifetime)
    kept_alive = session.seen(T0 + timedelta(days=6, hours=23))
    assert not kept_alive.is_expired(
        T0 + timedelta(days=6, hours=23, minutes=59), idle=idle, lifetime=lifetime
    )
    assert kept_alive.is_expired(T0 + timedelta(days=7), idle=idle, lifetime=lifetime)


def test_the_sixth_attempt_within_fifteen_minutes_waits_for_the_oldest_failure_to_age_out() -> None:
    throttle = LoginThrottle()
    failures = [T0 + timedelta(minutes=m) for m in range(5)]
    assert throttle.retry_after(failures[:4], T0 + timedelta(minutes=5)) is None
    assert throttle.retry_after(failures, T0 + timedelta(minutes=5)) == timedelta(minutes=10)
    assert throttle.retry_after(failures, T0 + timedelta(minutes=15)) is None


def test_caller_numbers_are_masked_and_words_kept() -> None:
    assert mask_number("+14155550123") == "+1******23"
    assert mask_number("anonymous") == "anonymous"
    assert mask_number("266696687") == "******87"


def test_durations_read_in_minutes_and_seconds() -> None:
    assert duration_text(None) == "—"
    assert duration_text(42) == "42 s"
    assert duration_text(125) == "2 min 05 s"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/calls?page=2", "/console/calls?page=2"),
        (None, "/console/schedule"),
        ("https://evil.example/", "/console/schedule"),
        ("//evil.example/console/", "/console/schedule"),
        ("/console/\\evil", "/console/schedule"),
        ("/api/v1/practice", "/console/schedule"),
    ],
)
def test_after_sign_in_only_console_paths_are_followed(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
