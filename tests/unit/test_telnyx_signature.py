"""Telnyx webhook signatures: Ed25519 over `timestamp|raw body`, fresh within 5 minutes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from adapters.telnyx.signature import Refusal, TelnyxSignatureVerifier
from tests.support.telnyx_simulator import TelnyxKeys

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
BODY = urlencode({"CallSid": "v3:abcdefghijkl", "From": "+15005550006", "Note": "a b&c"}).encode()


@pytest.fixture(scope="module")
def keys() -> TelnyxKeys:
    return TelnyxKeys()


def test_a_request_telnyx_signed_is_accepted(keys: TelnyxKeys) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    assert verifier.verify(keys.sign(STAMP, BODY), STAMP, BODY, NOW) is None


def test_headers_are_found_whatever_their_capitals(keys: TelnyxKeys) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    headers = {"Telnyx-Signature-Ed25519": keys.sign(STAMP, BODY), "TELNYX-TIMESTAMP": STAMP}
    assert verifier.verify_headers(headers, BODY, NOW) is None


def test_a_changed_body_is_forged(keys: TelnyxKeys) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    signature = keys.sign(STAMP, BODY)
    assert verifier.verify(signature, STAMP, BODY + b"&x=1", NOW) is Refusal.FORGED


def test_the_same_form_re_encoded_is_not_what_telnyx_signed(keys: TelnyxKeys) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    re_encoded = urlencode(parse_qsl(BODY.decode()), quote_via=quote).encode()
    assert re_encoded != BODY
    assert verifier.verify(keys.sign(STAMP, BODY), STAMP, re_encoded, NOW) is Refusal.FORGED


def test_a_signature_by_another_key_is_forged(keys: TelnyxKeys) -> None:
    verifier = TelnyxSignatureVerifier(TelnyxKeys().public_key_b64)
    assert verifier.verify(keys.sign(STAMP, BODY), STAMP, BODY, NOW) is Refusal.FORGED


def test_the_timestamp_is_part_of_what_is_signed(keys: TelnyxKeys) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    later = str(int(STAMP) + 1)
    assert verifier.verify(keys.sign(STAMP, BODY), later, BODY, NOW) is Refusal.FORGED


@pytest.mark.parametrize("skew_s", [301, -301, 86_400])
def test_a_timestamp_over_five_minutes_away_either_way_is_stale(
    keys: TelnyxKeys, skew_s: int
) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    stamp = str(int(STAMP) + skew_s)
    assert verifier.verify(keys.sign(stamp, BODY), stamp, BODY, NOW) is Refusal.STALE


def test_five_minutes_of_skew_is_still_fresh(keys: TelnyxKeys) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    stamp = str(int(STAMP) - 300)
    assert verifier.verify(keys.sign(stamp, BODY), stamp, BODY, NOW + timedelta(0)) is None


@pytest.mark.parametrize(
    ("signature", "timestamp"), [(None, STAMP), ("", STAMP), ("c2ln", None), ("c2ln", "")]
)
def test_a_missing_header_is_refused(
    keys: TelnyxKeys, signature: str | None, timestamp: str | None
) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    assert verifier.verify(signature, timestamp, BODY, NOW) is Refusal.MISSING
    assert verifier.verify_headers({}, BODY, NOW) is Refusal.MISSING


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [
        ("not base64!", STAMP),
        (base64.b64encode(bytes(63)).decode(), STAMP),
        (base64.b64encode(bytes(64)).decode(), "12.5"),
        (base64.b64encode(bytes(64)).decode(), "-100"),
        (base64.b64encode(bytes(64)).decode(), "\u0661\u0667" + "\u0660" * 8),
        (base64.b64encode(bytes(64)).decode(), "9" * 40),
    ],
)
def test_a_malformed_header_is_refused(keys: TelnyxKeys, signature: str, timestamp: str) -> None:
    verifier = TelnyxSignatureVerifier(keys.public_key_b64)
    assert verifier.verify(signature, timestamp, BODY, NOW) is Refusal.MALFORMED


@pytest.mark.parametrize(
    "key", ["", "not base64 at all", base64.b64encode(bytes(31)).decode(), "A" * 44 + "=="]
)
def test_a_bad_public_key_names_the_setting(key: str) -> None:
    with pytest.raises(ValueError, match="TELNYX_PUBLIC_KEY"):
        TelnyxSignatureVerifier(key)
