"""TwiML builders, read back the way Twilio reads them."""

from __future__ import annotations

import pytest

from adapters.twilio import twiml
from application.ports import CallOutcome
from domain.calls import NextStep
from tests.support.twilio_simulator import parse_twiml


def test_connect_stream_opens_a_bidirectional_stream_with_parameters_and_action() -> None:
    reply = parse_twiml(
        twiml.connect_stream(
            "wss://example.com/twilio/media",
            "https://example.com/twilio/after-stream",
            {"call_token": "t&<1>", "practice": "smile"},
        )
    )
    assert reply.verbs == ("Connect",)
    assert reply.stream_url == "wss://example.com/twilio/media"
    assert reply.connect_action == "https://example.com/twilio/after-stream"
    assert reply.stream_parameters == {"call_token": "t&<1>", "practice": "smile"}


def test_connect_stream_without_action_has_no_action_attribute() -> None:
    reply = parse_twiml(twiml.connect_stream("wss://example.com/twilio/media", None, {}))
    assert reply.connect_action is None
    assert reply.stream_parameters == {}


def test_connect_stream_refuses_a_query_string_in_the_stream_url() -> None:
    with pytest.raises(ValueError, match="query"):
        twiml.connect_stream("wss://example.com/twilio/media?x=1", None, {})


def test_hang_up_alone_is_just_a_hangup() -> None:
    assert parse_twiml(twiml.hang_up()).verbs == ("Hangup",)


def test_hang_up_with_words_says_them_first() -> None:
    xml = twiml.hang_up("Goodbye.")
    reply = parse_twiml(xml)
    assert reply.verbs == ("Say", "Hangup")
    assert reply.says == ("Goodbye.",)
    assert 'voice="Polly.Joanna"' in xml


def test_a_neutral_outcome_renders_as_say_then_dial_or_hang_up() -> None:
    transfer = CallOutcome(step=NextStep.TRANSFER, say="Connecting.", transfer_to="+15551234567")
    reply = parse_twiml(twiml.render(transfer))
    assert reply.verbs == ("Say", "Dial")
    assert reply.says == ("Connecting.",)
    busy = CallOutcome(step=NextStep.HANG_UP, say="All lines are busy.")
    assert parse_twiml(twiml.render(busy)).verbs == ("Say", "Hangup")
    assert parse_twiml(twiml.render(CallOutcome(step=NextStep.HANG_UP))).verbs == ("Hangup",)


def test_the_say_voice_can_be_chosen() -> None:
    outcome = CallOutcome(step=NextStep.HANG_UP, say="Hi")
    assert 'voice="Polly.Matthew"' in twiml.render(outcome, voice="Polly.Matthew")


def test_dial_transfers_to_a_number_after_an_optional_announcement() -> None:
    reply = parse_twiml(
        twiml.dial("+15551234567", "Transferring you now.", "https://example.com/twilio/dial")
    )
    assert reply.verbs == ("Say", "Dial")
    assert reply.dial_number == "+15551234567"
    assert reply.dial_action == "https://example.com/twilio/dial"
    bare = parse_twiml(twiml.dial("+15551234567"))
    assert bare.verbs == ("Dial",)
    assert bare.dial_action is None
