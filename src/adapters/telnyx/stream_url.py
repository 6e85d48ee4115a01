"""The media stream's URL, which carries the call it belongs to and its one-time token.

TeXML's `<Stream>` documents no `<Parameter>` children (Twilio's way of passing
per-call values into `start`), so the values travel in the URL's query string, which
Telnyx requests as given: `wss://HOST/telnyx/media?call=<CallSid>&token=<token>`. The
token is spent on first use, so a URL seen in a log cannot open a second stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlencode, urlsplit

from adapters.telnyx.webhook_form import CALL_SID

MEDIA_PATH: Final = "/telnyx/media"
CALL_PARAMETER: Final = "call"
TOKEN_PARAMETER: Final = "token"  # noqa: S105 (a parameter name, not a secret)
_MAX_TOKEN_LENGTH: Final = 128


@dataclass(frozen=True, slots=True)
class StreamCredentials:
    """Which call a stream claims to be, and the token that proves it."""

    call_sid: str
    token: str = field(repr=False)


def media_stream_url(public_base: str, call_sid: str, token: str, path: str = MEDIA_PATH) -> str:
    """The `<Stream url>` for one call: `https://` becomes `wss://` (`http://`, for
    local tests only, becomes `ws://`), with the call and token in the query."""
    parts = urlsplit(public_base)
    schemes = {"https": "wss", "http": "ws"}
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"public URL must be http(s)://host: {public_base!r}")
    base = schemes[parts.scheme] + public_base[len(parts.scheme) :]
    query = urlencode({CALL_PARAMETER: call_sid, TOKEN_PARAMETER: token})
    return f"{base.rstrip('/')}{path}?{query}"


def stream_credentials(query: Mapping[str, str]) -> StreamCredentials | None:
    """The call and token of a stream's query parameters; None when either is missing
    or malformed (the stream is then refused before reading a frame)."""
    call_sid = query.get(CALL_PARAMETER, "")
    token = query.get(TOKEN_PARAMETER, "")
    if not CALL_SID.fullmatch(call_sid):
        return None
    if not (0 < len(token) <= _MAX_TOKEN_LENGTH and token.isascii() and token.isprintable()):
        return None
    return StreamCredentials(call_sid, token)
