"""Stateful schemathesis run: chains of calls that follow our OpenAPI links, on PostgreSQL.

schemathesis reads the links from the running server's /schema and chains practice ->
slots -> booking -> read / cancel / reschedule, and listing -> read / cancel /
reschedule. Every response must be a documented status with a documented content type
and a conforming body, never a 5xx. Its own link inference is switched off, so every
chain comes from the links we publish, and the test requires that each link the API
promises (slots -> booking, booking -> read / cancel / reschedule) was followed to a
success at least once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from dependency_injector import providers
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import format_transition
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from tests.support.api_server import API_KEY, api_container, serve

AUTH = {"Authorization": f"Bearer {API_KEY}"}
PATIENT = {"patient_name": "Ada Lovelace", "patient_phone": "+14155550123"}
SERVICES = ["cleaning", "checkup"]
SLOTS = "GET /api/v1/slots"
BOOK = "POST /api/v1/appointments"
GET = "GET /api/v1/appointments/{appointment_id}"
CANCEL = "POST /api/v1/appointments/{appointment_id}/cancel"
RESCHEDULE = "POST /api/v1/appointments/{appointment_id}/reschedule"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ensure_resource_availability,
    use_after_free,
]
SCENARIOS_PER_RUN = 25
STEPS_PER_SCENARIO = 10
MAX_RUNS = 8


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def base_url(database_url: str) -> Iterator[str]:
    """The server, with a rate limit the run's few thousand requests stay under."""
    container = api_container(database_url=database_url)
    unlimited = container.settings().model_copy(update={"api_rate_limit_per_minute": 100_000})
    container.settings.override(providers.Object(unlimited))
    with serve(container) as url:
        yield url


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as client:
        yield client


def later_slot_ids(api: httpx.Client) -> list[str]:
    """Open cleaning slots, latest first: Dr Lee's, so any appointment may move there."""
    response = api.get("/api/v1/slots", params={"service": "cleaning", "limit": 200})
    assert response.status_code == 200, response.text
    return [slot["id"] for slot in reversed(response.json()["items"])]


def mostly(realistic: st.SearchStrategy[Any], *, otherwise: Any) -> st.SearchStrategy[Any]:
    """Three times in four a realistic value, else the one schemathesis generated."""
    return st.integers(0, 3).flatmap(lambda n: st.just(otherwise) if n == 0 else realistic)


def linked_schema(base_url: str, slot_ids: list[str]) -> Any:
    """The served schema, with schemathesis' link inference off and realistic values mixed in.

    Generated services, phone numbers and slot ids almost never name real ones, so most
    slot searches get a real service, most bookings a real patient and most reschedules
    a slot that was open when the run started. Appointment ids, and the slot a booking
    takes, come only from the links.
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
    schema.config.update(base_url=base_url, headers=AUTH)
    schema.config.phases.stateful.inference.algorithms = []

    @schema.hook
    def flatmap_query(context: Any, query: Any) -> Any:
        if context.operation.label == SLOTS and isinstance(query, dict):
            return mostly(st.sampled_from(SERVICES).map(lambda s: {"service": s}), otherwise=query)
        return st.just(query)

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        if not isinstance(body, dict):
            return st.just(body)
        if context.operation.label == BOOK:
            return mostly(st.just({**body, **PATIENT}), otherwise=body)
        if context.operation.label == RESCHEDULE:
            return mostly(st.sampled_from(slot_ids).map(lambda s: {"slot_id": s}), otherwise=body)
        return st.just(body)

    return schema


FOLLOWED_LINKS = {
    format_transition(SLOTS, "200", "BookAppointment", BOOK): 201,
    format_transition(BOOK, "201", "GetAppointment", GET): 200,
    format_transition(BOOK, "201", "CancelAppointment", CANCEL): 200,
    format_transition(BOOK, "201", "RescheduleAppointment", RESCHEDULE): 200,
}
"""Each link the issue names, and the answer it must have brought at least once."""


class Observed:
    """What the state machine saw, across runs: answers per operation and per link followed,
    and check failures."""

    def __init__(self) -> None:
        self.answers: Counter[tuple[str, int]] = Counter()
        self.links: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self.runs = 0

    def links_not_followed(self) -> list[str]:
        return [link for link, status in FOLLOWED_LINKS.items() if not self.links[(link, status)]]


def workflow(schema: Any, observed: Observed) -> Any:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input: Any) -> Any:
            output = super().step(input)
            if input.transition is not None and input.is_applied:
                observed.links[(input.transition.id, output.response.status_code)] += 1
            return output

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            observed.answers[(case.operation.label, response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            try:
                case.validate_response(
                    response, checks=CHECKS, transport_kwargs=kwargs, recorder=self.recorder
                )
            except FailureGroup as failure:
                observed.failures.append(f"{case.operation.label}: {failure}")
                raise

    return Workflow


def run_until_links_are_followed(machine: Any, observed: Observed) -> None:
    """Run batches of scenarios until each of FOLLOWED_LINKS was followed, at most MAX_RUNS.

    Which rules a scenario picks is random, so one batch may by chance never move a
    booking; another batch is cheaper than a budget big enough for every draw. Without
    the links no batch can succeed, and the test fails after the last one. The server's
    data also changes between scenarios, so Hypothesis may find a scenario's rule choices
    inconsistent with an earlier one (`FlakyStrategyDefinition`); schemathesis' own runner
    ends the suite there, and so does this batch. Check failures are recorded as they
    happen, so a batch ended that way cannot hide one.

    Each batch draws afresh (`derandomize=False`): under `CI` Hypothesis loads its "ci"
    profile, which derandomizes, and every batch would then replay the same choices.
    """
    for _ in range(MAX_RUNS):
        if not observed.links_not_followed():
            return
        observed.runs += 1
        try:
            machine.run(
                settings=settings(
                    max_examples=SCENARIOS_PER_RUN,
                    stateful_step_count=STEPS_PER_SCENARIO,
                    phases=[Phase.generate],
                    deadline=None,
                    database=None,
                    derandomize=False,
                    suppress_health_check=list(HealthCheck),
                )
            )
        except FlakyStrategyDefinition:
            continue


def test_linked_calls_answer_as_documented_and_reach_real_appointments(
    base_url: str, api: httpx.Client
) -> None:
    observed = Observed()
    machine = workflow(linked_schema(base_url, later_slot_ids(api)), observed)
    run_until_links_are_followed(machine, observed)

    assert not observed.failures, "\n\n".join(observed.failures)
    assert not observed.links_not_followed(), f"after {observed.runs} runs: {observed.links}"
    stored = api.get("/api/v1/appointments", params={"status": "cancelled"}).json()
    assert stored["total"] == observed.answers[(CANCEL, 200)], stored
