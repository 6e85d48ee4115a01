"""Webhooks end to end, on both engines: an integrator subscribes over the REST API, books,
and a real HTTP receiver on a real port gets the signed event."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from tests.support.api_server import API_KEY, NOW, api_container, serve
from tests.support.clock import TickingClock
from tests.support.metrics_text import sample
from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver
from tests.support.webhooks import secret_bytes, signed_by

PROBLEM = "application/problem+json"
T = TypeVar("T")


def client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture
def api(database_url: str) -> Iterator[httpx.Client]:
    """A server that may deliver to loopback, retrying the first failure after 0.2 s, on a
    clock that starts at the test practice's `NOW` and moves with real time."""
    container = api_container(
        database_url=database_url,
        clock=TickingClock(NOW),
        frontdesk_webhook_allow_private_urls=True,
        webhook_first_retry_s=0.2,
    )
    with serve(container) as base_url, client(base_url) as c:
        yield c


@pytest.fixture
def strict_api(database_url: str) -> Iterator[httpx.Client]:
    """A server with the production rules: https only, no private destinations."""
    with serve(api_container(database_url=database_url)) as base_url, client(base_url) as c:
        yield c


def subscribe(api: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = api.post(
        "/api/v1/webhooks",
        json={"url": url, "events": events or ["appointment.booked"], "description": "CRM"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def book(api: httpx.Client) -> dict[str, Any]:
    slots = api.get("/api/v1/slots", params={"service": "checkup", "limit": 1})
    slot_id = slots.json()["items"][0]["id"]
    response = api.post(
        "/api/v1/appointments",
        json={
            "slot_id": slot_id,
            "service": "checkup",
            "patient_name": "Ada Lovelace",
            "patient_phone": "+14155550123",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def eventually(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 5) -> T:
    """Re-read (each read a request to the server) until `done`, within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def test_an_integrator_gets_a_signed_appointment_booked_within_seconds(
    api: httpx.Client, receiver: WebhookReceiver
) -> None:
    subscription = subscribe(api, receiver.url)
    assert subscription["secret"].startswith("whsec_")
    assert secret_bytes(subscription["secret"]) >= 24
    assert subscription["status"] == "active"

    booked_at = time.monotonic()
    appointment = book(api)
    got = receiver.next(timeout_s=2)
    assert time.monotonic() - booked_at < 2

    assert signed_by(subscription["secret"], got.headers, got.body)
    event = httpx.Response(200, content=got.body).json()
    assert event["type"] == "appointment.booked"
    assert event["data"]["appointment_id"] == appointment["id"]
    assert event["data"]["source"] == "api"
    shown = api.get(f"/api/v1/webhooks/{subscription['id']}").json()
    assert "secret" not in shown
    assert shown["events"] == ["appointment.booked"]


def test_a_receiver_answering_500_gets_the_same_event_again_on_retry(
    api: httpx.Client, receiver: WebhookReceiver
) -> None:
    subscription = subscribe(api, receiver.url)
    receiver.answer(500)
    book(api)

    first, second = receiver.next(), receiver.next()

    assert (first.answered, second.answered) == (500, 200)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert signed_by(subscription["secret"], second.headers, second.body)
    deliveries = eventually(
        lambda: api.get(f"/api/v1/webhooks/{subscription['id']}/deliveries").json(),
        lambda page: page["items"][0]["status"] == "succeeded",
    )
    [delivery] = deliveries["items"]
    assert delivery["status"] == "succeeded"
    assert delivery["event_id"] == first.headers["webhook-id"]
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["attempts"][0]["error"] == "HTTP 500"
    assert delivery["attempts"][0]["next_retry_at"] is not None
    assert delivery["attempts"][1]["next_retry_at"] is None
    metrics = api.get("/metrics").text
    assert sample(metrics, "frontdesk_webhook_deliveries_total", outcome="retried") == 1
    assert sample(metrics, "frontdesk_webhook_deliveries_total", outcome="sent") == 1


def test_a_delivery_is_redelivered_on_request(api: httpx.Client, receiver: WebhookReceiver) -> None:
    subscription = subscribe(api, receiver.url)
    book(api)
    first = receiver.next()
    deliveries = f"/api/v1/webhooks/{subscription['id']}/deliveries"
    page = eventually(lambda: api.get(deliveries).json(), lambda p: bool(p["items"][0]["attempts"]))
    delivery_id = page["items"][0]["id"]

    response = api.post(f"{deliveries}/{delivery_id}/redeliver")

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    again = receiver.next()
    assert again.headers["webhook-id"] == first.headers["webhook-id"]


def test_subscriptions_are_listed_rotated_and_deleted(strict_api: httpx.Client) -> None:
    created = subscribe(strict_api, "https://hooks.example.com/frontdesk", ["call.completed"])
    path = f"/api/v1/webhooks/{created['id']}"

    listed = strict_api.get("/api/v1/webhooks").json()["items"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0]

    rotated = strict_api.post(f"{path}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_secret_expires_at"] == "2030-12-03T13:00:00Z"
    assert strict_api.get(path).json()["previous_secret_expires_at"] == "2030-12-03T13:00:00Z"

    assert strict_api.delete(path).status_code == 204
    assert_problem(strict_api.get(path), 404, "webhook_not_found")
    assert_problem(strict_api.delete(path), 404, "webhook_not_found")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/x", "destination_refused"),
        ("https://127.0.0.1/x", "destination_refused"),
        ("https://10.0.0.8/x", "destination_refused"),
        ("https://169.254.169.254/latest/meta-data", "destination_refused"),
        ("https://[::1]:8443/x", "destination_refused"),
        ("https://localhost/x", "destination_refused"),
        ("ftp://hooks.example.com/x", "invalid_subscription"),
        ("hooks.example.com", "invalid_subscription"),
    ],
)
def test_a_private_or_non_https_destination_is_refused_at_subscription(
    strict_api: httpx.Client, url: str, code: str
) -> None:
    response = strict_api.post(
        "/api/v1/webhooks", json={"url": url, "events": ["appointment.booked"]}
    )

    body = assert_problem(response, 422, code)
    assert body["errors"][0]["field"] == "url"
    assert strict_api.get("/api/v1/webhooks").json()["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hooks.example.com/x", "events": ["appointment.exploded"]},
        {"url": "https://hooks.example.com/x", "events": []},
        {"url": "https://hooks.example.com/x"},
        {"url": "https://hooks.example.com/x", "events": ["call.completed"], "extra": 1},
        {"url": "https://hooks.example.com/x", "events": ["call.completed"], "description": 7},
    ],
)
def test_a_malformed_subscription_is_refused(strict_api: httpx.Client, body: object) -> None:
    assert_problem(strict_api.post("/api/v1/webhooks", json=body), 422, "validation_failed")


def test_unknown_subscriptions_and_deliveries_are_404_and_the_api_needs_a_key(
    strict_api: httpx.Client,
) -> None:
    created = subscribe(strict_api, "https://hooks.example.com/x")
    unknown = uuid.uuid4()

    assert_problem(
        strict_api.get(f"/api/v1/webhooks/{unknown}/deliveries"), 404, "webhook_not_found"
    )
    assert_problem(
        strict_api.post(f"/api/v1/webhooks/{created['id']}/deliveries/{unknown}/redeliver"),
        404,
        "delivery_not_found",
    )
    anonymous = httpx.get(f"{strict_api.base_url}/api/v1/webhooks", timeout=10)
    assert_problem(anonymous, 401, "unauthorized")
