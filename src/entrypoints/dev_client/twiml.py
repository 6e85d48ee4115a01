"""Reading the TwiML our server answers with, as Twilio would (xml.etree)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


class TwimlError(ValueError):
    """A reply the dev client cannot follow."""


@dataclass(frozen=True, slots=True)
class TwimlReply:
    verbs: tuple[str, ...]
    says: tuple[str, ...] = ()
    connect_action: str | None = None
    stream_url: str | None = None
    stream_parameters: dict[str, str] = field(default_factory=dict)
    dial_number: str | None = None

    def describe(self) -> str:
        """The next step in words: what a caller would now hear and get."""
        said = " ".join(f'says "{text}",' for text in self.says)
        if self.dial_number:
            return f"{said} transfer to {self.dial_number}".strip()
        if "Hangup" in self.verbs or not self.verbs:
            return f"{said} hang up".strip()
        return f"{said} {', '.join(self.verbs)}".strip()


def parse(text: str) -> TwimlReply:
    try:
        root = ET.fromstring(text)  # noqa: S314 - our own server's reply
    except ET.ParseError as error:
        raise TwimlError(f"the server's reply is not XML: {error}") from None
    if root.tag != "Response":
        raise TwimlError(f"the server's reply is <{root.tag}>, not <Response>")
    verbs: list[str] = []
    says: list[str] = []
    action = stream_url = dial_number = None
    parameters: dict[str, str] = {}
    for verb in root:
        verbs.append(verb.tag)
        if verb.tag == "Say":
            says.append((verb.text or "").strip())
        elif verb.tag == "Dial":
            dial_number = (verb.text or "").strip() or None
        elif verb.tag == "Connect":
            stream = verb.find("Stream")
            if stream is None or not stream.get("url"):
                raise TwimlError("<Connect> holds no <Stream url>")
            action, stream_url = verb.get("action"), stream.get("url")
            parameters = {
                p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")
            }
    return TwimlReply(
        verbs=tuple(verbs),
        says=tuple(says),
        connect_action=action,
        stream_url=stream_url,
        stream_parameters=parameters,
        dial_number=dial_number,
    )
