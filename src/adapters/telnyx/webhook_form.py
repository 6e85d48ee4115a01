"""The fields of Telnyx's TeXML webhooks (voice URL, redirects, status callbacks),
parsed from the raw form body after its signature has been checked.

A form that cannot name its call (no `CallSid` shaped like Telnyx's) is refused with
`InvalidWebhookForm`; other fields that cannot be what Telnyx documents become
"absent", so nothing past this module meets a NUL, an over-long number or a duration
that is not a plain count of seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from application.calls.admission import CallStatusReport, IncomingCall

CARRIER: Final = "telnyx"
CALL_SID: Final = re.compile(r"v[0-9]:[A-Za-z0-9_-]{8,200}")
"""A TeXML call sid, e.g. "v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ"."""
CALL_STATUS: Final = re.compile(r"[a-z][a-z-]{0,31}")
FINAL_STATUSES: Final = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
"""The statuses of a call that is over (the TeXML status callback's documented set);
"queued", "initiated", "ringing" and "in-progress" are not final."""
MAX_ADDRESS_LENGTH: Final = 64
MAX_CALL_DURATION_S: Final = 24 * 3600
MAX_FIELDS: Final = 200
MAX_BODY_BYTES: Final = 64 * 1024


class InvalidWebhookForm(ValueError):
    """The body is not a TeXML webhook form; the message says what is wrong."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelnyxCallForm:
    call_sid: str
    account_sid: str
    """"" when missing or not printable."""
    from_number: str
    """The caller as Telnyx sent it (E.164, "anonymous", a SIP URI...); "" when missing,
    over-long or not printable text."""
    to_number: str
    call_status: str | None
    """None when missing or not shaped like a call status."""
    direction: str
    duration_s: int | None
    """`CallDuration` in seconds; None when missing or not a plausible count."""

    @property
    def final(self) -> bool:
        """The status says the call is over."""
        return self.call_status in FINAL_STATUSES

    def incoming_call(self) -> IncomingCall:
        return IncomingCall(
            carrier=CARRIER,
            carrier_call_id=self.call_sid,
            from_number=self.from_number,
            to_number=self.to_number,
        )

    def status_report(self) -> CallStatusReport:
        """For a status callback; `InvalidWebhookForm` when it carries no status."""
        if self.call_status is None:
            raise InvalidWebhookForm("CallStatus is missing or not a call status")
        return CallStatusReport(
            carrier=CARRIER,
            carrier_call_id=self.call_sid,
            carrier_status=self.call_status,
            final=self.final,
            duration_s=self.duration_s,
        )


def parse_form(raw_body: bytes) -> Mapping[str, str]:
    """The form fields of a raw `application/x-www-form-urlencoded` body. A field sent
    twice keeps its first value (Telnyx sends each once)."""
    if len(raw_body) > MAX_BODY_BYTES:
        raise InvalidWebhookForm(f"body of {len(raw_body)} bytes exceeds {MAX_BODY_BYTES}")
    try:
        text = raw_body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidWebhookForm(f"not a form body: {error}") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def parse_call_form(params: Mapping[str, str]) -> TelnyxCallForm:
    """The call fields of a verified webhook form; `InvalidWebhookForm` without a call."""
    sid = params.get("CallSid", "")
    if not CALL_SID.fullmatch(sid):
        raise InvalidWebhookForm("CallSid is missing or not a Telnyx call sid")
    status = params.get("CallStatus", "")
    return TelnyxCallForm(
        call_sid=sid,
        account_sid=_address(params.get("AccountSid", "")),
        from_number=_address(params.get("From", "")),
        to_number=_address(params.get("To", "")),
        call_status=status if CALL_STATUS.fullmatch(status) else None,
        direction=_address(params.get("Direction", "")),
        duration_s=_duration_s(params.get("CallDuration", "")),
    )


def _address(value: str) -> str:
    if len(value) > MAX_ADDRESS_LENGTH or not value.isprintable():
        return ""
    return value


def _duration_s(value: str) -> int | None:
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        return None
    seconds = int(value)
    return seconds if seconds <= MAX_CALL_DURATION_S else None
