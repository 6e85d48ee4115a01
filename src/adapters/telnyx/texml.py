"""Pure TeXML builders for the voice webhooks; each returns the XML document.

The answer is `<Connect><Stream/></Connect><Redirect>after-stream</Redirect>`:
TeXML's `<Connect>` runs the stream synchronously and documents no `action` URL;
the verbs after it run once the stream stops. So when our server closes the stream,
Telnyx follows the `<Redirect>` and asks what to do next, which `render` answers
from the call's outcome (say something, then put through or hang up).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Final
from urllib.parse import urlsplit

from application.ports import CallOutcome

DEFAULT_VOICE: Final = "Polly.Joanna"
"""Voice for `<Say>`; TeXML's own default is the basic "man"."""
BIDIRECTIONAL_CODECS: Final = frozenset({"PCMU", "PCMA"})
"""Codecs we ask Telnyx to take back: the ones our agent audio is already in (G.711),
so nothing is transcoded on our side."""
_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'


def connect_stream(
    stream_url: str, after_stream_url: str, *, codec: str = "PCMU", sample_rate_hz: int = 8000
) -> str:
    """A bidirectional RTP stream of the call (caller audio in `codec`, ours back in
    the same), then `<Redirect>` to `after_stream_url` once the stream has stopped.

    `bidirectionalMode="rtp"` is what makes Telnyx play raw audio we send back;
    without it the stream expects mp3 files and our frames are never heard.
    """
    if urlsplit(stream_url).scheme not in ("wss", "ws"):
        raise ValueError(f"a <Stream> url is a WebSocket URL: {stream_url!r}")
    if codec not in BIDIRECTIONAL_CODECS or sample_rate_hz != 8000:
        raise ValueError(f"unsupported stream audio: {codec} {sample_rate_hz} Hz")
    response = ET.Element("Response")
    connect = ET.SubElement(response, "Connect")
    ET.SubElement(
        connect,
        "Stream",
        url=stream_url,
        track="inbound_track",
        codec=codec,
        bidirectionalMode="rtp",
        bidirectionalCodec=codec,
        bidirectionalSamplingRate=str(sample_rate_hz),
    )
    redirect = ET.SubElement(response, "Redirect", method="POST")
    redirect.text = after_stream_url
    return _xml(response)


def render(outcome: CallOutcome, *, voice: str = DEFAULT_VOICE) -> str:
    """A neutral `CallOutcome` in TeXML: say its words, then `<Dial><Number>` the
    transfer number or `<Hangup/>`. Serves the after-stream request and a call turned
    away (busy, no agent) alike."""
    response = ET.Element("Response")
    if outcome.say:
        ET.SubElement(response, "Say", voice=voice).text = outcome.say
    if outcome.transfer_to:
        dial = ET.SubElement(response, "Dial")
        ET.SubElement(dial, "Number").text = outcome.transfer_to
    else:
        ET.SubElement(response, "Hangup")
    return _xml(response)


def _xml(response: ET.Element) -> str:
    return _DECLARATION + ET.tostring(response, encoding="unicode")
