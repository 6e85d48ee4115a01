"""The fields of Twilio's call webhooks, cleaned: what a signed form may say, and what
the use cases may trust.

Cleaning happens after the signature check (which covers the raw form as Twilio sent
it). A field that cannot be what Twilio documents becomes "absent" here, so nothing
past this module meets a NUL, a number longer than the calls table holds, or a
duration that is not a plain count of seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
"""A Twilio call sid: "CA" and 32 hex digits."""
MAX_ADDRESS_LENGTH = 64
"""`From`/`To` longer than this (the calls table's width) are not kept."""
CALL_STATUS = re.compile(r"[a-z][a-z-]{0,31}")
"""Twilio's call statuses are short lowercase words ("in-progress", "no-answer")."""
MAX_CALL_DURATION_S = 24 * 3600
"""Twilio ends every call within 24 hours; a longer duration is not a real one."""
WITHHELD_CALLER_NUMBERS = {
    "+266696687": "anonymous",
    "+7378742833": "restricted",
    "+2562533": "blocked",
    "+8656696": "unknown",
    "+86282452253": "unavailable",
}
"""Pseudo-numbers (the word spelled on a keypad) Twilio may send as `From` when the
caller ID is withheld. They are nobody's phone: kept as the word, so no caller is ever
identified by one (and shown another withheld caller's appointments)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallWebhookForm:
    call_sid: str | None
    """None when missing or not shaped like a Twilio call sid."""
    from_number: str
    """The caller as Twilio sent it (E.164, "anonymous", "client:alice", a SIP URI...),
    a withheld-ID pseudo-number as its word; "" when missing, over-long or not
    printable text."""
    to_number: str
    call_status: str | None
    """None when missing or not shaped like a Twilio call status."""
    duration_s: int | None
    """`CallDuration` in seconds; None when missing or not a plausible count."""


def clean_call_webhook_form(params: Mapping[str, str]) -> CallWebhookForm:
    """The call fields of a verified webhook form, each either sound or marked absent."""
    sid = params.get("CallSid", "")
    status = params.get("CallStatus", "")
    return CallWebhookForm(
        call_sid=sid if CALL_SID.fullmatch(sid) else None,
        from_number=_caller(params.get("From", "")),
        to_number=_address(params.get("To", "")),
        call_status=status if CALL_STATUS.fullmatch(status) else None,
        duration_s=_duration_s(params.get("CallDuration", "")),
    )


def _caller(value: str) -> str:
    return WITHHELD_CALLER_NUMBERS.get(value) or _address(value)


def _address(value: str) -> str:
    if len(value) > MAX_ADDRESS_LENGTH or not value.isprintable():
        return ""
    return value


def _duration_s(value: str) -> int | None:
    # str.isdigit() alone accepts "²" and "٣", which int() refuses or reads as digits.
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        return None
    seconds = int(value)
    return seconds if seconds <= MAX_CALL_DURATION_S else None
