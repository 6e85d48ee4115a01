"""Verify `X-Twilio-Signature` and rebuild the public URLs Twilio signs.

Twilio signs the URL *it* requested. Behind a proxy or tunnel the app sees another
host, scheme or port, so the URL to verify is rebuilt from the configured public base
(`PUBLIC_URL`), never from the request's Host header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioSignatureVerifier:
    """Check a request's signature against the account's auth token(s).

    Pass the primary token first and, during a rotation, the secondary one: a request
    signed with either is genuine. The twilio package's `RequestValidator` does the
    HMAC and tries the URL with and without its default port, as Twilio's own
    signing is inconsistent there.
    """

    __slots__ = ("_validators",)

    def __init__(self, auth_tokens: Sequence[str]) -> None:
        tokens = [token for token in auth_tokens if token]
        if not tokens:
            raise ValueError("at least one non-empty Twilio auth token is required")
        self._validators = tuple(RequestValidator(token) for token in tokens)

    def verify(self, url: str, params: Mapping[str, str], signature: str | None) -> bool:
        """True when `signature` is Twilio's for `url` and the form `params`.

        `url` is the full public URL including any query string, exactly as Twilio
        requested it; `params` the POST form fields (empty for a WebSocket handshake).
        A missing or empty signature is never valid.
        """
        if not signature:
            return False
        form = dict(params)
        return any(bool(v.validate(url, form, signature)) for v in self._validators)


def public_url(base: str, path: str, query: str = "") -> str:
    """The URL Twilio requests for `path` on our public `base` (e.g. `PUBLIC_URL`).

    `base` may carry a path prefix (`https://example.com/frontdesk`); `query` is the
    raw query string as received (without `?`), kept byte for byte because the
    signature covers it.
    """
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/': {path!r}")
    url = base.rstrip("/") + path
    return f"{url}?{query}" if query else url


def media_stream_url(base: str, path: str = "/twilio/media") -> str:
    """The WebSocket URL of the media stream: `https` becomes `wss`, `http` `ws`.

    Twilio only connects to `wss://` in production; `ws://` serves local tests.
    """
    parts = urlsplit(base)
    schemes = {"https": "wss", "http": "ws"}
    if parts.scheme not in schemes:
        raise ValueError(f"public URL must be http(s): {base!r}")
    return public_url(schemes[parts.scheme] + base[len(parts.scheme) :], path)


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """The `X-Twilio-Signature` Twilio would send for `url` and form `params`.

    For tools that act as Twilio (the dev client); the server only ever verifies.
    """
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))
