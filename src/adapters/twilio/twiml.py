"""Pure TwiML builders for the voice webhooks; each returns the XML document."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.twiml.voice_response import Connect, VoiceResponse

from application.ports import CallOutcome

DEFAULT_VOICE = "Polly.Joanna"
"""Voice for `<Say>`. Twilio's own default is the robotic "man"; any Twilio-supported
Amazon Polly (`Polly.<Name>`) or Google voice works."""


def connect_stream(stream_url: str, action_url: str | None, parameters: Mapping[str, str]) -> str:
    """`<Connect action><Stream url><Parameter/>...` — a bidirectional media stream.

    The stream URL takes no query string (Twilio drops it); per-call values travel as
    `<Parameter>`s and arrive in the `start` message's `customParameters`. When our
    server closes the stream, Twilio requests `action_url` for what to do next.
    """
    if "?" in stream_url:
        raise ValueError("a <Stream> url takes no query string; use parameters")
    response = VoiceResponse()
    connect = Connect(action=action_url) if action_url else Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    return _xml(response)


def hang_up(say: str | None = None, *, voice: str = DEFAULT_VOICE) -> str:
    """Optionally say something, then `<Hangup/>`."""
    response = VoiceResponse()
    if say:
        response.say(say, voice=voice)
    response.hangup()
    return _xml(response)


def dial(
    number: str,
    say: str | None = None,
    action_url: str | None = None,
    *,
    voice: str = DEFAULT_VOICE,
) -> str:
    """Optionally say something, then `<Dial>` a human at `number` (E.164).

    With `action_url`, Twilio requests it when the dialled leg ends (no answer, busy,
    done); without it, the call continues with the next verb, of which there is none.
    """
    response = VoiceResponse()
    if say:
        response.say(say, voice=voice)
    if action_url:
        response.dial(number, action=action_url)
    else:
        response.dial(number)
    return _xml(response)


def render(outcome: CallOutcome, *, voice: str = DEFAULT_VOICE) -> str:
    """A neutral `CallOutcome` in TwiML: say its words, then dial or hang up."""
    if outcome.transfer_to:
        return dial(outcome.transfer_to, outcome.say, voice=voice)
    return hang_up(outcome.say, voice=voice)


def _xml(response: VoiceResponse) -> str:
    return str(response.to_xml())


def no_reply() -> str:
    """An empty Messaging TwiML answer: we send no reply to an incoming text (Twilio's
    own opt-out handling answers STOP and START)."""
    return '<?xml version="1.0" encoding="UTF-8"?><Response />'
