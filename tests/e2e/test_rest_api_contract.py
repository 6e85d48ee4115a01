"""REST API v1 findings of the stateful schemathesis run, each pinned down on PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

NUL = "\x00"


@pytest.fixture
def engine_name() -> str:
    """PostgreSQL: it refuses NUL in text where SQLite does not."""
    return "postgres"


def test_a_nul_in_a_call_filter_finds_no_calls_instead_of_failing(api: httpx.Client) -> None:
    response = api.get("/api/v1/calls", params={"from_number": f"+1415{NUL}5550123"})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert response.json()["total"] == 0


def test_a_nul_in_a_call_sid_is_not_found_instead_of_failing(api: httpx.Client) -> None:
    response = api.get("/api/v1/calls/CA%00123")
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "call_not_found"


def _schema(api: httpx.Client) -> dict[str, Any]:
    schema: dict[str, Any] = api.get("/schema/openapi.json").json()
    return schema


def test_request_bodies_are_published_as_closed_like_the_server_treats_them(
    api: httpx.Client,
) -> None:
    schemas = _schema(api)["components"]["schemas"]
    assert schemas["BookAppointmentBody"]["additionalProperties"] is False
    assert schemas["RescheduleBody"]["additionalProperties"] is False
    booking = api.post("/api/v1/appointments", json={"note": "x"})
    assert "Object contains unknown field `note`" in booking.text
    move = api.post(
        "/api/v1/appointments/00000000-0000-4000-8000-000000000000/reschedule",
        json={"slot_id": "dr-lee@2030-12-03T14:00Z", "note": "x"},
    )
    assert move.status_code == 422, move.text


def test_the_schema_links_a_booking_to_reading_cancelling_and_moving_it(
    api: httpx.Client,
) -> None:
    paths = _schema(api)["paths"]
    booked = paths["/api/v1/appointments"]["post"]["responses"]["201"]["links"]
    assert {name: link["operationId"] for name, link in booked.items()} == {
        "GetAppointment": "getAppointment",
        "CancelAppointment": "cancelAppointment",
        "RescheduleAppointment": "rescheduleAppointment",
    }
    assert all(
        link["parameters"] == {"appointment_id": "$response.body#/id"} for link in booked.values()
    )
    slots = paths["/api/v1/slots"]["get"]["responses"]["200"]["links"]
    assert slots["BookAppointment"]["requestBody"]["slot_id"] == "$response.body#/items/0/id"
    assert paths["/api/v1/appointments/{appointment_id}"]["get"]["operationId"] == "getAppointment"
