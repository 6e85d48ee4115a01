"""The webhook model: signing, destinations, the retry schedule, subscription transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from domain.webhooks import (
    DISABLE_AFTER_FAILING,
    RETRY_DELAYS,
    Destination,
    DestinationRefused,
    DisabledReason,
    EventType,
    InvalidSubscription,
    RetrySchedule,
    Subscription,
    WebhookSecret,
    parse_event_types,
    sign,
    signature_header,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_a_signature_matches_the_standard_webhooks_example() -> None:
    secret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_generated_secret_holds_32_random_bytes_and_never_shows_in_a_repr() -> None:
    secret = WebhookSecret.generate()

    assert secret.value.startswith("whsec_")
    assert len(secret.key) == 32
    assert secret.value not in repr(secret)
    assert WebhookSecret.generate() != secret


def test_signatures_from_two_secrets_each_verify_with_the_reference_implementation() -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    timestamp = int(datetime.now(UTC).timestamp())
    body = b'{"type":"appointment.booked"}'

    header = signature_header([new, old], "evt_1", timestamp, body)

    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(timestamp)}
    for secret in (old, new):
        Webhook(secret.value).verify(body, {**headers, "webhook-signature": header})
    assert len(header.split(" ")) == 2


@pytest.mark.parametrize("value", ["whsec_", "sk_abc", "whsec_!!!", "whsec_c2hvcnQ="])
def test_a_malformed_or_short_secret_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        WebhookSecret(value)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/",
        "https://127.8.0.1/",
        "https://10.0.0.1/",
        "https://172.16.5.4/",
        "https://192.168.1.1/",
        "https://100.64.0.1/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://0.0.0.0/",
        "https://localhost/",
        "https://api.localhost/",
    ],
)
def test_a_plain_http_or_private_destination_is_refused(url: str) -> None:
    with pytest.raises(DestinationRefused):
        Destination.parse(url, allow_private=False)
    assert Destination.parse(url, allow_private=True).url == url


@pytest.mark.parametrize(
    "url", ["", "hooks.example.com", "ftp://hooks.example.com/", "https://u:p@hooks.example.com/"]
)
def test_a_url_that_is_not_an_absolute_web_address_is_invalid(url: str) -> None:
    with pytest.raises(InvalidSubscription):
        Destination.parse(url, allow_private=True)


def test_a_public_https_destination_is_accepted() -> None:
    assert Destination.parse("https://8.8.8.8:8443/h", allow_private=False).host == "8.8.8.8"
    assert Destination.parse("https://hooks.example.com/h?x=1", allow_private=False)


def test_event_types_must_be_known_and_at_least_one() -> None:
    assert parse_event_types(["call.completed"]) == {EventType.CALL_COMPLETED}
    with pytest.raises(InvalidSubscription, match=r"appointment\.exploded"):
        parse_event_types(["appointment.exploded"])
    with pytest.raises(InvalidSubscription):
        parse_event_types([])


def test_the_retry_schedule_waits_5s_5min_30min_2h_5h_10h_10h_then_gives_up() -> None:
    schedule = RetrySchedule()

    waits = [schedule.next_attempt(n, NOW) for n in range(1, 9)]

    assert [w - NOW for w in waits[:7] if w is not None] == list(RETRY_DELAYS)
    assert [timedelta(seconds=5), timedelta(hours=10)] == [RETRY_DELAYS[0], RETRY_DELAYS[-1]]
    assert waits[7] is None


def test_jitter_stretches_or_shrinks_a_wait_by_at_most_a_tenth() -> None:
    longest = RetrySchedule(jitter=lambda: 1.0).next_attempt(3, NOW)
    shortest = RetrySchedule(jitter=lambda: -5.0).next_attempt(3, NOW)

    assert longest == NOW + timedelta(minutes=33)
    assert shortest == NOW + timedelta(minutes=27)


def test_the_first_retry_can_be_configured() -> None:
    schedule = RetrySchedule.with_first_retry(timedelta(seconds=0.2), lambda: 0.0)

    assert schedule.next_attempt(1, NOW) == NOW + timedelta(seconds=0.2)
    assert schedule.next_attempt(2, NOW) == NOW + timedelta(minutes=5)


def subscription() -> Subscription:
    return Subscription.create(
        destination=Destination("https://hooks.example.com/"),
        events=frozenset({EventType.APPOINTMENT_BOOKED}),
        description="",
        secret=WebhookSecret.generate(),
        now=NOW,
    )


def test_a_rotated_secret_signs_beside_the_old_one_for_24_hours() -> None:
    s = subscription()
    old, new = s.secret, WebhookSecret.generate()

    s.rotate(new, NOW)

    assert s.signing_secrets(NOW + timedelta(hours=23)) == [new, old]
    assert s.signing_secrets(NOW + timedelta(hours=24)) == [new]


def test_a_subscription_is_disabled_by_a_410_or_by_failing_for_days() -> None:
    gone, failing = subscription(), subscription()

    gone.failed(NOW, gone=True)
    failing.failed(NOW, gone=False)
    failing.failed(NOW + DISABLE_AFTER_FAILING - timedelta(seconds=1), gone=False)
    assert failing.active
    failing.failed(NOW + DISABLE_AFTER_FAILING, gone=False)

    assert gone.disabled_reason is DisabledReason.GONE
    assert failing.disabled_reason is DisabledReason.FAILING
    assert not gone.wants(EventType.APPOINTMENT_BOOKED)


def test_a_success_ends_a_failure_streak() -> None:
    s = subscription()
    s.failed(NOW, gone=False)

    s.delivered()
    s.failed(NOW + DISABLE_AFTER_FAILING, gone=False)

    assert s.active
    assert s.failing_since == NOW + DISABLE_AFTER_FAILING
