"""The Telnyx messaging adapter against a strict local stand-in of `POST /v2/messages`:
what it sends, and which refusals are final."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.telnyx_rest.messaging import TelnyxTextNotifier
from application.ports import TextNotSent
from tests.support.fake_telnyx_messaging import FakeTelnyxMessage, FakeTelnyxMessaging

KEY, SENDER, PATIENT = "KEY0123456789abcdef", "+14155550100", "+14155550123"


@pytest.fixture
def telnyx() -> Iterator[FakeTelnyxMessaging]:
    with FakeTelnyxMessaging(KEY, senders={SENDER}) as fake:
        yield fake


@pytest.fixture
async def notifier(telnyx: FakeTelnyxMessaging) -> AsyncIterator[TelnyxTextNotifier]:
    sender = TelnyxTextNotifier(KEY, from_number=SENDER, base_url=telnyx.base_url)
    yield sender
    await sender.aclose()


async def test_a_text_is_sent_with_the_key_and_its_id_comes_back(
    notifier: TelnyxTextNotifier, telnyx: FakeTelnyxMessaging
) -> None:
    message_id = await notifier.send_text(PATIENT, "Your checkup is booked.")

    assert telnyx.messages == [
        FakeTelnyxMessage(id=message_id, to=PATIENT, from_=SENDER, text="Your checkup is booked.")
    ]


@pytest.mark.parametrize(
    ("prepare", "to", "permanent", "code"),
    [
        (lambda t: t.fail_next(503), PATIENT, False, "10007"),
        (lambda t: t.fail_next(429), PATIENT, False, "10007"),
        (lambda t: t.opted_out.add(PATIENT), PATIENT, True, "40300"),
        (lambda t: None, "4155550123", True, "40310"),
    ],
)
async def test_refusals_are_final_unless_telnyx_is_down_or_busy(
    notifier: TelnyxTextNotifier,
    telnyx: FakeTelnyxMessaging,
    prepare: object,
    to: str,
    permanent: bool,
    code: str,
) -> None:
    assert callable(prepare)
    prepare(telnyx)

    with pytest.raises(TextNotSent) as refused:
        await notifier.send_text(to, "Hello")

    assert refused.value.permanent is permanent
    assert f"code {code}" in refused.value.reason
    assert PATIENT not in refused.value.reason


async def test_a_wrong_key_is_a_final_refusal(telnyx: FakeTelnyxMessaging) -> None:
    wrong = TelnyxTextNotifier("not-the-key", from_number=SENDER, base_url=telnyx.base_url)
    try:
        with pytest.raises(TextNotSent) as refused:
            await wrong.send_text(PATIENT, "Hello")
    finally:
        await wrong.aclose()

    assert (refused.value.permanent, "HTTP 401" in refused.value.reason) == (True, True)


async def test_telnyx_out_of_reach_is_worth_a_retry() -> None:
    unreachable = TelnyxTextNotifier(KEY, from_number=SENDER, base_url="http://127.0.0.1:1")
    try:
        with pytest.raises(TextNotSent) as refused:
            await unreachable.send_text(PATIENT, "Hello")
    finally:
        await unreachable.aclose()

    assert refused.value.permanent is False
