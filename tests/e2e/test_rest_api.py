"""REST API v1 end to end: a real server on a real port, PostgreSQL behind it, httpx in front."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from tests.support.api_practice import api_practice
from tests.support.api_server import API_KEY, OTHER_API_KEY, api_container, serve

PROBLEM = "application/problem+json"
PHONE = "+14155550123"


@pytest.fixture
def engine_name() -> str:
    """End to end on PostgreSQL, the production engine (the contract test uses SQLite)."""
    return "postgres"


def first_slot(api: httpx.Client, service: str = "cleaning", **params: Any) -> str:
    response = api.get("/api/v1/slots", params={"service": service, **params})
    assert response.status_code == 200, response.text
    slot_id: str = response.json()["items"][0]["id"]
    return slot_id


def booking(slot_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "slot_id": slot_id,
        "service": "cleaning",
        "patient_name": "Ada Lovelace",
        "patient_phone": PHONE,
        **overrides,
    }


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://frontdesk.dev/problems/{code.replace('_', '-')}"
    assert body["title"]
    assert body["detail"]
    return body


def assert_names_field(response: httpx.Response, field: str) -> None:
    body = assert_problem(response, 422, response.json().get("code", "?"))
    assert field in [e["field"] for e in body["errors"]], body


def test_an_appointment_is_booked_found_moved_and_cancelled(api: httpx.Client) -> None:
    slot_id = first_slot(api)
    booked = api.post("/api/v1/appointments", json=booking(slot_id, patient_phone="(415) 555-0123"))
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert booked.headers["location"] == f"/api/v1/appointments/{appointment['id']}"
    assert appointment["status"] == "booked"
    assert appointment["channel"] == "api"
    assert appointment["slot_id"] == slot_id
    assert appointment["patient_phone"] == PHONE
    assert appointment["start"].endswith("Z")
    assert appointment["local_start"].endswith("-05:00")

    listed = api.get("/api/v1/appointments", params={"phone": "415-555-0123"}).json()
    assert [a["id"] for a in listed["items"]] == [appointment["id"]]
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)

    fetched = api.get(booked.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == appointment

    later = api.get("/api/v1/slots", params={"service": "cleaning", "limit": 20}).json()["items"]
    new_slot = next(s["id"] for s in later if s["start"] >= appointment["end"])
    moved = api.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule", json={"slot_id": new_slot}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["slot_id"] == new_slot
    assert first_slot(api) == slot_id  # the old time is open again

    cancelled = api.post(f"/api/v1/appointments/{appointment['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None
    again = api.post(f"/api/v1/appointments/{appointment['id']}/cancel")
    assert_problem(again, 409, "appointment_not_changeable")
    booked_only = api.get("/api/v1/appointments", params={"status": "booked"}).json()
    assert booked_only["total"] == 0


def test_a_repeated_request_with_the_same_idempotency_key_replays_the_booking(
    api: httpx.Client,
) -> None:
    body = booking(first_slot(api))
    headers = {"Idempotency-Key": "order-42"}
    first = api.post("/api/v1/appointments", json=body, headers=headers)
    replay = api.post("/api/v1/appointments", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert replay.headers["location"] == first.headers["location"]
    assert api.get("/api/v1/appointments").json()["total"] == 1


def test_an_idempotency_key_reused_with_another_body_is_a_conflict(api: httpx.Client) -> None:
    slot_id = first_slot(api)
    headers = {"Idempotency-Key": "order-43"}
    assert (
        api.post("/api/v1/appointments", json=booking(slot_id), headers=headers).status_code == 201
    )
    other = api.post(
        "/api/v1/appointments", json=booking(slot_id, patient_name="Grace Hopper"), headers=headers
    )
    assert_problem(other, 409, "idempotency_conflict")


def test_idempotency_keys_of_different_api_keys_do_not_collide(
    api: httpx.Client, base_url: str
) -> None:
    headers = {"Idempotency-Key": "same-key"}
    slots = api.get("/api/v1/slots", params={"service": "checkup", "limit": 2}).json()["items"]
    mine = api.post(
        "/api/v1/appointments", json=booking(slots[0]["id"], service="checkup"), headers=headers
    )
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {OTHER_API_KEY}"}
    ) as other_client:
        theirs = other_client.post(
            "/api/v1/appointments", json=booking(slots[1]["id"], service="checkup"), headers=headers
        )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


def test_a_second_booking_of_a_slot_is_refused(api: httpx.Client) -> None:
    slot_id = first_slot(api)
    assert api.post("/api/v1/appointments", json=booking(slot_id)).status_code == 201
    second = api.post("/api/v1/appointments", json=booking(slot_id, patient_name="Grace Hopper"))
    assert_problem(second, 409, "slot_taken")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no key", "wrong key", "wrong scheme"],
)
def test_the_api_refuses_requests_without_a_valid_key(
    anonymous: httpx.Client, headers: dict[str, str]
) -> None:
    response = anonymous.get("/api/v1/practice", headers=headers)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_appointment_is_not_found(api: httpx.Client) -> None:
    missing = api.get("/api/v1/appointments/00000000-0000-4000-8000-000000000000")
    assert_problem(missing, 404, "appointment_not_found")
    assert_problem(api.get("/api/v1/appointments/not-a-uuid"), 404, "not_found")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"patient_phone": "12"}, "patient_phone"),
        ({"slot_id": "tomorrow at noon"}, "slot_id"),
        ({"patient_name": None}, "patient_name"),
        ({"service": 7}, "service"),
    ],
    ids=["bad phone", "bad slot id", "wrong type for name", "wrong type for service"],
)
def test_invalid_bookings_are_unprocessable_and_name_the_field(
    api: httpx.Client, overrides: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v1/appointments", json={**booking(first_slot(api)), **overrides})
    assert_names_field(response, field)


def test_a_booking_missing_a_field_names_it(api: httpx.Client) -> None:
    body = booking(first_slot(api))
    del body["patient_phone"]
    assert_names_field(api.post("/api/v1/appointments", json=body), "patient_phone")


def test_a_slot_query_without_a_service_names_it(api: httpx.Client) -> None:
    assert_names_field(api.get("/api/v1/slots"), "service")
    assert_names_field(
        api.get("/api/v1/slots", params={"service": "cleaning", "from": "soon"}), "from"
    )


def test_the_practice_describes_hours_providers_and_services(api: httpx.Client) -> None:
    practice = api.get("/api/v1/practice").json()
    assert practice["time_zone"] == "America/New_York"
    assert practice["hours"]["monday"][0] == {"opens": "09:00", "closes": "12:00"}
    assert practice["hours"]["sunday"] == []
    assert {s["id"]: s["duration_minutes"] for s in practice["services"]} == {
        "cleaning": 60,
        "checkup": 30,
    }
    assert {p["id"] for p in practice["providers"]} == {"dr-lee", "dr-patel"}


def test_slots_of_a_day_are_listed_in_the_practice_time_zone(api: httpx.Client) -> None:
    slots = api.get(
        "/api/v1/slots",
        params={
            "service": "checkup",
            "provider": "dr-patel",
            "from": "2030-12-03",
            "to": "2030-12-03",
        },
    ).json()["items"]
    assert slots[0]["local_start"] == "2030-12-03T09:00:00-05:00"
    assert slots[0]["start"] == "2030-12-03T14:00:00Z"
    assert all(s["start"].startswith("2030-12-03") for s in slots)


def test_health_and_readiness_are_open(anonymous: httpx.Client) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks.pop("live_events", "ok") in ("ok", "not_listening")  # reported, not required
    assert checks == {"database": "ok", "schema": "ok", "admitting_calls": "ok"}
    schema = anonymous.get("/schema/openapi.json").json()
    assert schema["info"] == {"title": "frontdesk", "version": "1.0.0"} | {
        k: v for k, v in schema["info"].items() if k not in ("title", "version")
    }
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_appointments_are_listed_by_provider_service_and_date_range(api: httpx.Client) -> None:
    def book(service: str, provider: str, **window: str) -> str:
        slot_id = first_slot(api, service, provider=provider, **window)
        response = api.post("/api/v1/appointments", json=booking(slot_id, service=service))
        assert response.status_code == 201, response.text
        appointment_id: str = response.json()["id"]
        return appointment_id

    lee_cleaning = book("cleaning", "dr-lee")
    patel_checkup = book("checkup", "dr-patel")
    lee_checkup_wednesday = book("checkup", "dr-lee", **{"from": "2030-12-04"})

    def listed(**params: str) -> list[str]:
        response = api.get("/api/v1/appointments", params=params)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    assert listed(provider="dr-lee") == [lee_cleaning, lee_checkup_wednesday]
    assert listed(service="checkup") == [patel_checkup, lee_checkup_wednesday]
    assert listed(provider="dr-lee", service="checkup") == [lee_checkup_wednesday]
    assert listed(**{"from": "2030-12-04", "to": "2030-12-04"}) == [lee_checkup_wednesday]
    same_start = listed(**{"to": "2030-12-03"})  # both at 09:00: their order is by id
    assert sorted(same_start) == sorted([lee_cleaning, patel_checkup])
    assert listed(provider="dr-patel", status="cancelled") == []
    assert_problem(
        api.get("/api/v1/appointments", params={"provider": "dr-who"}), 422, "unknown_provider"
    )
    assert_problem(
        api.get("/api/v1/appointments", params={"service": "whitening"}), 422, "unknown_service"
    )


def test_slots_within_the_minimum_notice_are_not_listed_and_cannot_be_booked(
    database_url: str,
) -> None:
    container = api_container(database_url=database_url)  # NOW: Monday 08:00 in New York
    practice = dataclasses.replace(api_practice(), min_notice=timedelta(hours=2))
    container.practice.override(providers.Object(practice))
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with (
        serve(container) as base_url,
        httpx.Client(base_url=base_url, headers=auth, timeout=10) as api,
    ):
        assert api.get("/api/v1/practice").json()["min_notice_hours"] == 2
        slots = api.get("/api/v1/slots", params={"service": "checkup", "from": "2030-12-02"})
        assert slots.json()["items"][0]["start"] == "2030-12-02T15:00:00Z"  # 10:00, not 09:00
        too_soon = api.post(
            "/api/v1/appointments", json=booking("dr-lee@2030-12-02T14:30Z", service="checkup")
        )
        body = assert_problem(too_soon, 422, "short_notice")
        assert "2 hours" in body["detail"]
        in_time = api.post(
            "/api/v1/appointments", json=booking("dr-lee@2030-12-02T15:00Z", service="checkup")
        )
        assert in_time.status_code == 201, in_time.text
        moved = api.post(
            f"/api/v1/appointments/{in_time.json()['id']}/reschedule",
            json={"slot_id": "dr-lee@2030-12-02T14:00Z"},
        )
        assert_problem(moved, 422, "short_notice")
