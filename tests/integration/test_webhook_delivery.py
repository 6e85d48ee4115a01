"""Webhook delivery on both engines, to a real HTTP receiver, on a clock the test moves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sql import Database
from application.webhooks import RedeliverHandler, RotateSecretHandler
from domain.webhooks import (
    DISABLE_AFTER_FAILING,
    RETRY_DELAYS,
    DeliveryStatus,
    DisabledReason,
    EventType,
)
from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver
from tests.support.webhooks import Hooks, hooks_on, secret_bytes, signed_by

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def hooks(database: Database) -> Hooks:
    return hooks_on(database, NOW)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture
async def other_database(database_url: str) -> AsyncIterator[Database]:
    """A second engine on the same database: another process, as the database sees it."""
    db = Database.from_url(database_url)
    try:
        yield db
    finally:
        await db.dispose()


async def test_an_event_reaches_each_subscriber_that_wants_it_signed_with_its_own_secret(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    a = await hooks.subscribe(receiver.url + "?to=a", ["appointment.booked"])
    b = await hooks.subscribe(receiver.url + "?to=b", ["appointment.booked", "call.completed"])
    await hooks.subscribe(receiver.url + "?to=c", ["appointment.cancelled"])
    event = await hooks.emit(appointment_id="42")

    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()

    by_path = {r.path: r for r in receiver.received}
    assert set(by_path) == {"/hooks?to=a", "/hooks?to=b"}
    for subscription in (a, b):
        got = by_path[f"/hooks?to={'a' if subscription is a else 'b'}"]
        assert got.headers["webhook-id"] == str(event.id)
        assert got.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
        assert got.headers["content-type"] == "application/json"
        assert signed_by(subscription.secret.value, got.headers, got.body)
        assert json.loads(got.body) == {
            "type": "appointment.booked",
            "timestamp": "2026-11-20T15:00:00Z",
            "data": {"appointment_id": "42"},
        }
    assert not signed_by(
        b.secret.value, by_path["/hooks?to=a"].headers, by_path["/hooks?to=a"].body
    )
    assert secret_bytes(a.secret.value) >= 24
    assert hooks.observer.outcomes == ["sent", "sent"]


async def test_a_failed_delivery_is_retried_on_the_schedule_with_the_same_webhook_id(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    subscription = await hooks.subscribe(receiver.url)
    event = await hooks.emit()
    receiver.answer(500, 503)

    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()
        await dispatcher.run_once()  # not due yet: nothing is sent
        assert len(receiver.received) == 1
        [delivery] = await hooks.deliveries(subscription.id)
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.next_attempt_at == NOW + timedelta(seconds=5)

        hooks.advance(timedelta(seconds=5))
        await dispatcher.run_once()
        hooks.advance(timedelta(minutes=5))
        await dispatcher.run_once()

    assert [r.answered for r in receiver.received] == [500, 503, 200]
    assert {r.headers["webhook-id"] for r in receiver.received} == {str(event.id)}
    [delivery] = await hooks.deliveries(subscription.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert delivery.next_attempt_at is None
    assert [a.status_code for a in delivery.attempts] == [500, 503, 200]
    assert [a.error for a in delivery.attempts] == ["HTTP 500", "HTTP 503", None]
    assert [a.next_retry_at for a in delivery.attempts] == [
        NOW + timedelta(seconds=5),
        NOW + timedelta(seconds=5, minutes=5),
        None,
    ]
    assert all(a.latency_ms > 0 for a in delivery.attempts)
    assert hooks.observer.outcomes == ["retried", "retried", "sent"]


async def test_a_delivery_that_keeps_failing_gives_up_after_the_last_retry(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    subscription = await hooks.subscribe(receiver.url)
    await hooks.emit()
    receiver.answer(*[500] * 20)

    async with hooks.dispatcher() as dispatcher:
        for delay in (timedelta(0), *RETRY_DELAYS, timedelta(days=3)):
            hooks.advance(delay)
            await dispatcher.run_once()

    assert len(receiver.received) == 1 + len(RETRY_DELAYS)
    [delivery] = await hooks.deliveries(subscription.id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts[-1].next_retry_at is None
    assert hooks.observer.outcomes[-1] == "failed"
    stored = await hooks.subscriptions.get(subscription.id)
    assert stored is not None
    assert stored.active
    assert stored.failing_since == NOW


async def test_a_failed_delivery_can_be_redelivered_with_the_same_webhook_id(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    subscription = await hooks.subscribe(receiver.url)
    event = await hooks.emit()
    receiver.answer(500)
    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()
        [delivery] = await hooks.deliveries(subscription.id)

        redeliver = RedeliverHandler(hooks.subscriptions, hooks.queue, hooks.clock, hooks.wake)
        queued = await redeliver(subscription.id, delivery.id)
        assert queued.status is DeliveryStatus.PENDING
        assert queued.next_attempt_at == NOW
        await dispatcher.run_once()

    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event.id)] * 2
    [delivery] = await hooks.deliveries(subscription.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert len(delivery.attempts) == 2


async def test_a_410_disables_the_subscription_and_nothing_more_is_sent_to_it(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    subscription = await hooks.subscribe(receiver.url)
    await hooks.emit()
    receiver.answer(410)

    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()
        await hooks.emit()
        hooks.advance(timedelta(hours=1))
        await dispatcher.run_once()

    assert len(receiver.received) == 1
    stored = await hooks.subscriptions.get(subscription.id)
    assert stored is not None
    assert stored.disabled_reason is DisabledReason.GONE
    assert stored.disabled_at == NOW
    [delivery] = await hooks.deliveries(subscription.id)
    assert delivery.status is DeliveryStatus.FAILED
    assert hooks.observer.outcomes == ["failed"]


async def test_a_subscription_failing_for_days_is_disabled_and_a_success_ends_a_streak(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    flaky = await hooks.subscribe(receiver.url + "?flaky")
    receiver.answer(500, 200)
    await hooks.emit()
    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()
        hooks.advance(timedelta(seconds=5))
        await dispatcher.run_once()
    stored = await hooks.subscriptions.get(flaky.id)
    assert stored is not None
    assert stored.failing_since is None
    assert stored.active
    await hooks.subscriptions.delete(flaky.id)

    broken = await hooks.subscribe(receiver.url)
    receiver.answer(*[500] * 20)
    await hooks.emit()
    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()
        hooks.advance(DISABLE_AFTER_FAILING)
        await hooks.emit()
        await dispatcher.run_once()

    stored = await hooks.subscriptions.get(broken.id)
    assert stored is not None
    assert stored.disabled_reason is DisabledReason.FAILING
    assert stored.disabled_at == NOW + timedelta(seconds=5) + DISABLE_AFTER_FAILING


async def test_undelivered_events_are_delivered_after_a_restart(
    hooks: Hooks, receiver: WebhookReceiver, other_database: Database
) -> None:
    await hooks.subscribe(receiver.url)
    first = await hooks.emit()
    await hooks.database.dispose()  # the process that committed it stops

    restarted = hooks_on(other_database, NOW)
    async with restarted.dispatcher() as dispatcher:
        await dispatcher.run_once()

    assert [r.headers["webhook-id"] for r in receiver.received] == [str(first.id)]


async def test_an_attempt_claimed_by_a_dispatcher_that_died_is_made_once_its_lease_lapses(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    await hooks.subscribe(receiver.url)
    event = await hooks.emit()
    lease = timedelta(seconds=40)
    await hooks.queue.fan_out(10)
    [claimed] = await hooks.queue.claim_due(NOW, lease, 10)  # ...and then it died

    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()
        assert receiver.received == []
        hooks.advance(lease)
        await dispatcher.run_once()

    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event.id)]
    assert claimed.event_id == event.id


async def test_two_dispatchers_claim_disjoint_deliveries_and_send_each_once(
    hooks: Hooks, receiver: WebhookReceiver, other_database: Database
) -> None:
    await hooks.subscribe(receiver.url)
    events = [await hooks.emit(n=n) for n in range(30)]
    await hooks.queue.fan_out(100)
    lease = timedelta(seconds=40)

    mine, theirs = await asyncio.gather(
        hooks.queue.claim_due(NOW, lease, 20),
        hooks_on(other_database, NOW).queue.claim_due(NOW, lease, 20),
    )
    assert len(mine) + len(theirs) == 30
    assert not {d.delivery_id for d in mine} & {d.delivery_id for d in theirs}

    hooks.advance(lease)
    async with (
        hooks.dispatcher(batch_size=4) as first,
        hooks.dispatcher(database=other_database, batch_size=4) as second,
    ):
        for _ in range(5):
            await asyncio.gather(first.run_once(), second.run_once())

    sent = [r.headers["webhook-id"] for r in receiver.received]
    assert sorted(sent) == sorted(str(e.id) for e in events)


async def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    subscription = await hooks.subscribe(receiver.url)
    rotated = await RotateSecretHandler(hooks.subscriptions, hooks.clock)(subscription.id)
    old, new = subscription.secret.value, rotated.secret.value
    assert old != new
    assert rotated.previous_secret_expires_at == NOW + timedelta(hours=24)

    await hooks.emit()
    async with hooks.dispatcher() as dispatcher:
        await dispatcher.run_once()
        hooks.advance(timedelta(hours=24))
        await hooks.emit()
        await dispatcher.run_once()

    during, after = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert signed_by(new, during.headers, during.body)
    assert signed_by(old, during.headers, during.body)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert signed_by(new, after.headers, after.body)
    assert not signed_by(old, after.headers, after.body)


async def test_a_host_name_resolving_to_loopback_is_refused_at_delivery_and_never_connected(
    hooks: Hooks,
) -> None:
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    listener = await asyncio.start_server(count, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]

    async def resolve_to_loopback(host: str, _port: int) -> list[str]:
        return ["127.0.0.1"] if host == "hooks.internal.test" else []

    subscription = await hooks.subscribe(
        f"https://hooks.internal.test:{port}/x", allow_private=False
    )
    await hooks.emit()
    async with (
        listener,
        hooks.dispatcher(allow_private=False, resolve=resolve_to_loopback) as dispatcher,
    ):
        await dispatcher.run_once()

    [delivery] = await hooks.deliveries(subscription.id)
    [attempt] = delivery.attempts
    assert attempt.status_code is None
    assert attempt.error == (
        "destination refused: hooks.internal.test resolves to 127.0.0.1 is a loopback address"
    )
    assert attempt.next_retry_at == NOW + timedelta(seconds=5)
    assert connections == 0


async def test_a_private_destination_allowed_at_subscription_is_refused_by_a_strict_sender(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    subscription = await hooks.subscribe(receiver.url, allow_private=True)
    await hooks.emit()

    async with hooks.dispatcher(allow_private=False) as dispatcher:
        await dispatcher.run_once()

    assert receiver.received == []
    [delivery] = await hooks.deliveries(subscription.id)
    assert "127.0.0.1 is a loopback address" in (delivery.attempts[0].error or "")


async def test_allowing_private_urls_lets_a_local_host_name_through(
    hooks: Hooks, receiver: WebhookReceiver
) -> None:
    await hooks.subscribe(receiver.url.replace("127.0.0.1", "localhost"), allow_private=True)
    await hooks.emit(EventType.APPOINTMENT_BOOKED)

    async with hooks.dispatcher(allow_private=True) as dispatcher:
        await dispatcher.run_once()

    assert len(receiver.received) == 1
