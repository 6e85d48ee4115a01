"""Verify Telnyx's Ed25519 webhook signatures.

Telnyx signs `<telnyx-timestamp>|<raw body>` with the account's private key and sends
the signature (base64, 64 bytes) in `telnyx-signature-ed25519`. The body is checked
exactly as received: a form re-encoded by us would not be the bytes Telnyx signed.
A timestamp more than five minutes from our clock, either way, is refused, so a
captured request cannot be replayed later.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_HEADER: Final = "telnyx-signature-ed25519"
TIMESTAMP_HEADER: Final = "telnyx-timestamp"
MAX_SKEW_S: Final = 300
"""How far a signed timestamp may be from our clock, in either direction."""
_MAX_TIMESTAMP_DIGITS: Final = 12


class Refusal(StrEnum):
    """Why a request is not Telnyx's; the values are fit for a log line."""

    MISSING = "signature or timestamp header missing"
    MALFORMED = "signature or timestamp header malformed"
    STALE = "timestamp more than five minutes from our clock"
    FORGED = "signature does not match the body"


class TelnyxSignatureVerifier:
    """Checks requests against the account's public key (the portal's base64 text).

    Construction fails with a `ValueError` naming `TELNYX_PUBLIC_KEY` when the key is
    not the base64 of 32 bytes, so a bad setting stops the server at start-up rather
    than refusing every call.
    """

    __slots__ = ("_key",)

    def __init__(self, public_key_b64: str) -> None:
        self._key = Ed25519PublicKey.from_public_bytes(_public_key_bytes(public_key_b64))

    def verify_headers(
        self, headers: Mapping[str, str], raw_body: bytes, now: datetime
    ) -> Refusal | None:
        """`verify` with the two values taken from `headers` (names in any case)."""
        return self.verify(
            _header(headers, SIGNATURE_HEADER), _header(headers, TIMESTAMP_HEADER), raw_body, now
        )

    def verify(
        self, signature: str | None, timestamp: str | None, raw_body: bytes, now: datetime
    ) -> Refusal | None:
        """None when Telnyx signed `timestamp|raw_body` within `MAX_SKEW_S` of `now`
        (an aware datetime, from the caller's clock); otherwise why not."""
        if not signature or not timestamp:
            return Refusal.MISSING
        if not (
            timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS
        ):
            return Refusal.MALFORMED
        try:
            signature_bytes = binascii.a2b_base64(signature, strict_mode=True)
        except (binascii.Error, ValueError):
            return Refusal.MALFORMED
        if len(signature_bytes) != 64:
            return Refusal.MALFORMED
        if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_S:
            return Refusal.STALE
        try:
            self._key.verify(signature_bytes, timestamp.encode() + b"|" + raw_body)
        except InvalidSignature:
            return Refusal.FORGED
        return None


def _public_key_bytes(public_key_b64: str) -> bytes:
    problem = (
        "TELNYX_PUBLIC_KEY must be the account's Ed25519 public key as the Telnyx portal "
        "shows it: the base64 of 32 bytes"
    )
    try:
        raw = binascii.a2b_base64(public_key_b64.strip(), strict_mode=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{problem} (it is not valid base64)") from None
    if len(raw) != 32:
        raise ValueError(f"{problem} (it decodes to {len(raw)} bytes)")
    return raw


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():  # a plain dict with other capitals
        if key.lower() == name:
            return candidate
    return None
