"""TeXML answers, parsed back by the strict simulator's parser."""

from __future__ import annotations

import pytest

from adapters.telnyx.stream_url import media_stream_url, stream_credentials
from adapters.telnyx.texml import connect_stream, render
from application.calls.outcome import busy_outcome, outcome_for
from application.ports import CallOutcome
from domain.calls import NextStep
from tests.support.telnyx_simulator import TexmlRejected, parse_texml

SID = "v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ"
AFTER = "https://frontdesk.example.com/telnyx/after-stream"


def test_the_answer_streams_both_ways_then_asks_what_next() -> None:
    url = media_stream_url("https://frontdesk.example.com", SID, "tok-1&x=<y>")
    reply = parse_texml(connect_stream(url, AFTER))
    assert reply.verbs == ("Connect", "Redirect")
    assert reply.stream_codec == "PCMU"
    assert reply.redirect_url == AFTER
    assert reply.stream_query == {"call": SID, "token": "tok-1&x=<y>"}
    credentials = stream_credentials(reply.stream_query)
    assert credentials is not None
    assert (credentials.call_sid, credentials.token) == (SID, "tok-1&x=<y>")
    assert "tok-1" not in repr(credentials)


def test_the_stream_url_follows_the_public_scheme_and_path_prefix() -> None:
    assert media_stream_url("https://h.example/fd/", SID, "t").startswith(
        "wss://h.example/fd/telnyx/media?call=v3%3A"
    )
    assert media_stream_url("http://127.0.0.1:8000", SID, "t").startswith("ws://127.0.0.1:8000/")
    with pytest.raises(ValueError, match="http"):
        media_stream_url("ftp://h", SID, "t")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"call": SID},
        {"token": "t"},
        {"call": "CA" + "0" * 32, "token": "t"},
        {"call": SID, "token": ""},
        {"call": SID, "token": "t\x00"},
        {"call": SID, "token": "t" * 200},
    ],
)
def test_a_stream_without_sound_credentials_is_refused(query: dict[str, str]) -> None:
    assert stream_credentials(query) is None


def test_a_transfer_says_its_words_then_dials_the_desk() -> None:
    reply = parse_texml(render(outcome_for(NextStep.TRANSFER, "+15551230001")))
    assert reply.verbs == ("Say", "Dial")
    assert reply.dial_number == "+15551230001"
    assert reply.says == ("Connecting you to the front desk now.",)


def test_a_hang_up_with_nothing_to_say_is_a_bare_hangup() -> None:
    assert parse_texml(render(CallOutcome(step=NextStep.HANG_UP))).verbs == ("Hangup",)


def test_a_busy_caller_hears_why_then_reaches_the_desk_or_is_asked_to_call_back() -> None:
    to_desk = parse_texml(render(busy_outcome("+15551230001")))
    assert (to_desk.verbs, to_desk.dial_number) == (("Say", "Dial"), "+15551230001")
    call_back = parse_texml(render(busy_outcome(None)))
    assert call_back.verbs == ("Say", "Hangup")
    assert "call back" in call_back.says[0]


def test_words_are_escaped() -> None:
    reply = parse_texml(render(CallOutcome(step=NextStep.APOLOGISE, say="A & B <c>")))
    assert reply.says == ("A & B <c>",)


def test_the_answer_refuses_what_telnyx_could_not_stream() -> None:
    with pytest.raises(ValueError, match="WebSocket"):
        connect_stream("https://h/telnyx/media", AFTER)
    with pytest.raises(ValueError, match="unsupported"):
        connect_stream("wss://h/telnyx/media", AFTER, codec="OPUS")


@pytest.mark.parametrize(
    "xml",
    [
        "not xml",
        "<Reply/>",
        "<Response><Speak>hi</Speak></Response>",
        '<Response><Connect><Stream url="wss://h/m"/></Connect></Response>',
        '<Response><Connect><Stream url="wss://h/m" bidirectionalMode="mp3"/></Connect></Response>',
        '<Response><Connect><Stream url="ws://h/m" bidirectionalMode="rtp"/></Connect></Response>',
        '<Response><Connect><Stream url="wss://h/m" bidirectionalMode="rtp"'
        ' bidirectionalCodec="L8"/></Connect></Response>',
        '<Response><Connect><Stream url="wss://h/m" bidirectionalMode="rtp">'
        '<Parameter name="a" value="b"/></Stream></Connect></Response>',
        '<Response><Connect action="https://h/a"><Stream url="wss://h/m"'
        ' bidirectionalMode="rtp"/></Connect></Response>',
        "<Response><Dial>+15551230001</Dial></Response>",
    ],
)
def test_texml_telnyx_would_refuse_is_rejected(xml: str) -> None:
    with pytest.raises(TexmlRejected):
        parse_texml(xml)
