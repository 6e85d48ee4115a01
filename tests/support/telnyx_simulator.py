"""A strict stand-in for Telnyx (TeXML + media streaming): signed webhooks, TeXML
checks, and, in `telnyx_media_stream`, the media stream as Telnyx drives it.

Written from Telnyx's documentation, independently of `adapters.telnyx`, so the adapter
is checked against the protocol rather than against itself. Public names match
`twilio_simulator` where the behaviour is the same, so one suite can drive both.

- `TelnyxKeys`: an Ed25519 key pair; `public_key_b64` is what the server's
  `TELNYX_PUBLIC_KEY` holds, `sign` signs `timestamp|body` as Telnyx does.
- `post_voice_webhook`, `post_status_callback`, `post_after_stream`: form posts,
  signed over the exact bytes sent.
- `parse_texml`: strict; raises `TexmlRejected` where Telnyx would fail the call.
"""

from __future__ import annotations

import base64
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.support.telnyx_media_stream import (
    BYTES_PER_S,
    FRAME_BYTES,
    CallIdentity,
    Received,
    SimulatedCall,
    new_call,
)

__all__ = [
    "BYTES_PER_S",
    "FRAME_BYTES",
    "CallIdentity",
    "Received",
    "SimulatedCall",
    "TelnyxKeys",
    "TexmlRejected",
    "TexmlReply",
    "call_params",
    "new_call",
    "parse_texml",
    "post_after_stream",
    "post_signed",
    "post_status_callback",
    "post_voice_webhook",
]

SIGNATURE_HEADER: Final = "telnyx-signature-ed25519"
TIMESTAMP_HEADER: Final = "telnyx-timestamp"

# --- identities and signatures --------------------------------------------------------


class TelnyxKeys:
    """The account's signing key pair (Telnyx keeps the private half)."""

    def __init__(self) -> None:
        self._private = Ed25519PrivateKey.generate()
        raw = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key_b64 = base64.b64encode(raw).decode()

    def sign(self, timestamp: str, body: bytes) -> str:
        return base64.b64encode(self._private.sign(timestamp.encode() + b"|" + body)).decode()


# --- webhooks ---------------------------------------------------------------------------


def call_params(call: CallIdentity, call_status: str, **extra: str) -> dict[str, str]:
    """The standard form fields of a TeXML request for a call."""
    params = {
        "AccountSid": call.account_sid,
        "CallSid": call.call_sid,
        "CallSidLegacy": call.call_sid,
        "CallStatus": call_status,
        "Direction": "inbound",
        "From": call.from_number,
        "To": call.to_number,
    }
    params.update(extra)
    return params


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    params: Mapping[str, str],
    keys: TelnyxKeys,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
) -> httpx.Response:
    """POST `params` form-encoded, signed over the exact body bytes sent.

    `timestamp` (Unix seconds) defaults to now; `signature` overrides (forgery).
    """
    body = urlencode(dict(params)).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: keys.sign(stamp, body) if signature is None else signature,
    }
    return await client.post(url, content=body, headers=headers)


async def post_voice_webhook(
    client: httpx.AsyncClient, url: str, keys: TelnyxKeys, call: CallIdentity, **kwargs: Any
) -> httpx.Response:
    """An incoming call ringing at our voice URL."""
    return await post_signed(client, url, call_params(call, "ringing"), keys, **kwargs)


async def post_after_stream(
    client: httpx.AsyncClient, url: str, keys: TelnyxKeys, call: CallIdentity, **kwargs: Any
) -> httpx.Response:
    """The `<Redirect>` after `<Connect>`: requested once the stream has stopped."""
    return await post_signed(client, url, call_params(call, "in-progress"), keys, **kwargs)


async def post_status_callback(
    client: httpx.AsyncClient,
    url: str,
    keys: TelnyxKeys,
    call: CallIdentity,
    *,
    call_status: str = "completed",
    duration_s: int | None = None,
    sequence_number: int = 0,
    **kwargs: Any,
) -> httpx.Response:
    extra = {"CallbackSource": "call-progress-events", "SequenceNumber": str(sequence_number)}
    if duration_s is not None:
        extra["CallDuration"] = str(duration_s)
    params = call_params(call, call_status, **extra)
    return await post_signed(client, url, params, keys, **kwargs)


# --- TeXML ----------------------------------------------------------------------------

_VERBS: Final = frozenset(
    {"Say", "Play", "Pause", "Gather", "AIGather", "Dial", "Hangup", "Redirect", "Reject"}
    | {"Connect", "Start", "Stop", "Record", "Enqueue", "Leave", "Refer", "HttpRequest"}
)
_STREAM_ATTRIBUTES: Final = frozenset(
    {"url", "track", "name", "codec", "bidirectionalMode", "bidirectionalCodec"}
    | {"bidirectionalSamplingRate", "statusCallback", "statusCallbackMethod"}
)
_CODECS: Final = frozenset({"PCMU", "PCMA", "G722", "OPUS", "AMR-WB"})
_TRACKS: Final = frozenset({"inbound_track", "outbound_track", "both_tracks"})


class TexmlRejected(AssertionError):
    """TeXML Telnyx would refuse, or that would leave the caller unable to hear us."""


@dataclass(frozen=True, slots=True)
class TexmlReply:
    verbs: tuple[str, ...]
    """Top-level verbs in order, e.g. ("Connect", "Redirect") or ("Say", "Hangup")."""
    says: tuple[str, ...] = ()
    stream_url: str | None = None
    stream_codec: str | None = None
    """`bidirectionalCodec`: what Telnyx expects our audio in."""
    redirect_url: str | None = None
    dial_number: str | None = None

    @property
    def stream_query(self) -> dict[str, str]:
        query = parse_qs(urlsplit(self.stream_url or "").query)
        return {name: values[0] for name, values in query.items()}


def parse_texml(text: str) -> TexmlReply:
    """Parse a TeXML reply strictly; raise `TexmlRejected` where Telnyx would fail."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise TexmlRejected(f"not XML: {error}") from None
    if root.tag != "Response":
        raise TexmlRejected(f"root element is <{root.tag}>, not <Response>")
    verbs: list[str] = []
    says: list[str] = []
    reply: dict[str, Any] = {}
    for verb in root:
        if verb.tag not in _VERBS:
            raise TexmlRejected(f"unknown verb <{verb.tag}>")
        verbs.append(verb.tag)
        if verb.tag == "Say":
            says.append(verb.text or "")
        elif verb.tag == "Dial":
            reply["dial_number"] = _dial_number(verb)
        elif verb.tag == "Redirect":
            reply["redirect_url"] = _redirect_url(verb)
        elif verb.tag == "Connect":
            reply.update(_parse_connect(verb))
    return TexmlReply(verbs=tuple(verbs), says=tuple(says), **reply)


def _dial_number(dial: ET.Element) -> str:
    numbers = [child for child in dial if child.tag == "Number"]
    if len(numbers) != 1 or len(dial) != 1:
        raise TexmlRejected("<Dial> must hold exactly one <Number> here")
    number = (numbers[0].text or "").strip()
    if not (number.startswith("+") and number[1:].isdigit()):
        raise TexmlRejected(f"<Number> is not E.164: {number!r}")
    return number


def _redirect_url(redirect: ET.Element) -> str:
    url = (redirect.text or "").strip()
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    )  # plain http only to a loopback test server
    if not secure or redirect.get("method", "POST") not in ("GET", "POST"):
        raise TexmlRejected(f"bad <Redirect>: {ET.tostring(redirect)!r}")
    return url


def _parse_connect(connect_el: ET.Element) -> dict[str, Any]:
    if connect_el.attrib:
        raise TexmlRejected(f"<Connect> takes no attributes: {connect_el.attrib}")
    streams = connect_el.findall("Stream")
    if len(streams) != 1 or len(connect_el) != 1:
        raise TexmlRejected("<Connect> must hold exactly one <Stream> here")
    stream = streams[0]
    unknown = set(stream.attrib) - _STREAM_ATTRIBUTES
    if unknown or len(stream):
        raise TexmlRejected(f"<Stream> has unknown attributes or children: {sorted(unknown)}")
    url = stream.get("url") or ""
    parts = urlsplit(url)
    # Plain ws:// only to a loopback test server (no TLS in tests); Telnyx wants wss://.
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not (parts.scheme == "wss" or (parts.scheme == "ws" and loopback)) or not parts.netloc:
        raise TexmlRejected(f"<Stream url> must be a wss:// URL: {url!r}")
    if stream.get("bidirectionalMode") != "rtp":
        raise TexmlRejected('<Stream> without bidirectionalMode="rtp": our audio is never heard')
    codec = stream.get("bidirectionalCodec", "PCMU")
    if codec not in _CODECS or stream.get("codec", "PCMU") not in _CODECS | {"default"}:
        raise TexmlRejected(f"unknown codec on <Stream>: {stream.attrib}")
    if stream.get("bidirectionalSamplingRate", "8000") not in ("8000", "16000", "24000"):
        raise TexmlRejected(f"bad bidirectionalSamplingRate: {stream.attrib}")
    if stream.get("track", "inbound_track") not in _TRACKS:
        raise TexmlRejected(f"bad track: {stream.attrib}")
    return {"stream_url": url, "stream_codec": codec}
