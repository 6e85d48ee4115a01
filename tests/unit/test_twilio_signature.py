"""Webhook signature checks and the public URLs they are computed over."""

from __future__ import annotations

import pytest

from adapters.twilio.signature import TwilioSignatureVerifier, media_stream_url, public_url
from tests.support.twilio_simulator import call_params, new_call, sign

PRIMARY = "primary-token-0123456789abcdef"
SECONDARY = "secondary-token-0123456789abcd"
URL = "https://example.com/twilio/voice?practice=smile"


@pytest.fixture
def params() -> dict[str, str]:
    return call_params(new_call(), "ringing")


def test_a_genuine_signature_is_accepted(params: dict[str, str]) -> None:
    verifier = TwilioSignatureVerifier([PRIMARY])
    assert verifier.verify(URL, params, sign(URL, params, PRIMARY))


def test_a_signature_with_another_token_is_refused(params: dict[str, str]) -> None:
    verifier = TwilioSignatureVerifier([PRIMARY])
    assert not verifier.verify(URL, params, sign(URL, params, "not-our-token"))


def test_tampered_parameters_are_refused(params: dict[str, str]) -> None:
    signature = sign(URL, params, PRIMARY)
    forged = {**params, "From": "+15550000000"}
    assert not TwilioSignatureVerifier([PRIMARY]).verify(URL, forged, signature)


def test_a_signature_over_another_url_is_refused(params: dict[str, str]) -> None:
    signature = sign("https://example.com/twilio/voice", params, PRIMARY)
    assert not TwilioSignatureVerifier([PRIMARY]).verify(URL, params, signature)


@pytest.mark.parametrize("signature", [None, ""])
def test_a_missing_signature_is_refused(params: dict[str, str], signature: str | None) -> None:
    assert not TwilioSignatureVerifier([PRIMARY]).verify(URL, params, signature)


def test_the_secondary_token_is_accepted_during_a_rotation(params: dict[str, str]) -> None:
    verifier = TwilioSignatureVerifier([PRIMARY, SECONDARY])
    assert verifier.verify(URL, params, sign(URL, params, SECONDARY))
    assert verifier.verify(URL, params, sign(URL, params, PRIMARY))


def test_a_signature_over_the_url_with_its_default_port_is_accepted(
    params: dict[str, str],
) -> None:
    with_port = "https://example.com:443/twilio/voice?practice=smile"
    verifier = TwilioSignatureVerifier([PRIMARY])
    assert verifier.verify(URL, params, sign(with_port, params, PRIMARY))
    assert verifier.verify(with_port, params, sign(URL, params, PRIMARY))


def test_a_websocket_handshake_is_signed_over_the_url_alone() -> None:
    url = "wss://example.com/twilio/media"
    assert TwilioSignatureVerifier([PRIMARY]).verify(url, {}, sign(url, {}, PRIMARY))


def test_no_token_at_all_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="token"):
        TwilioSignatureVerifier(["", ""])


def test_public_urls_are_built_from_the_configured_base() -> None:
    assert public_url("https://example.com", "/twilio/voice") == "https://example.com/twilio/voice"
    assert public_url("https://example.com/", "/twilio/voice", "a=1&b=%20") == (
        "https://example.com/twilio/voice?a=1&b=%20"
    )
    assert public_url("https://example.com/fd", "/twilio/voice") == (
        "https://example.com/fd/twilio/voice"
    )
    with pytest.raises(ValueError, match="path"):
        public_url("https://example.com", "twilio/voice")


def test_the_media_url_swaps_http_for_websocket_schemes() -> None:
    assert media_stream_url("https://example.com") == "wss://example.com/twilio/media"
    assert media_stream_url("http://localhost:8000/") == "ws://localhost:8000/twilio/media"
    assert media_stream_url("https://example.com", "/m") == "wss://example.com/m"
    with pytest.raises(ValueError, match="http"):
        media_stream_url("ftp://example.com")
