"""Stateful schemathesis run: chains of calls that follow our OpenAPI links, on PostgreSQL.

schemathesis reads the links from the running server's /schema and chains practice ->
slots -> booking -> read / cancel / reschedule, and listing -> read / cancel /
reschedule. Its own link inference is switched off, so every chain comes from the links
we publish: without them no booking, cancel or reschedule could reach a real slot or
appointment, and the test fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
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
SCENARIOS = 60
STEPS_PER_SCENARIO = 10
MAX_RUNS = 10


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def base_url(database_url: str) -> Iterator[str]:
    with serve(api_container(database_url=database_url)) as url:
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
    a slot that was open when the run started. Ids of slots and appointments still come
    only from the links.
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


class Observed:
    """What the state machine saw, across runs: answers per operation and check failures."""

    def __init__(self) -> None:
        self.answers: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self.scenarios = 0


def workflow(schema: Any, observed: Observed) -> Any:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            observed.scenarios += 1

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


def run_scenarios(machine: Any, observed: Observed) -> None:
    """Run SCENARIOS scenarios, over several Hypothesis runs if need be.

    The server's data changes from one scenario to the next, so Hypothesis may find that
    a scenario chose among different rules than an earlier one with the same draws
    (`FlakyStrategyDefinition`). schemathesis' own runner ends the suite there; this
    starts a fresh run for the scenarios left. Check failures are recorded as they happen,
    so a run ended this way cannot hide one.
    """
    for _ in range(MAX_RUNS):
        left = SCENARIOS - observed.scenarios
        if left <= 0:
            return
        try:
            machine.run(
                settings=settings(
                    max_examples=left,
                    stateful_step_count=STEPS_PER_SCENARIO,
                    phases=[Phase.generate],
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
            )
            return
        except FlakyStrategyDefinition:
            continue


def test_linked_calls_answer_as_documented_and_reach_real_appointments(
    base_url: str, api: httpx.Client
) -> None:
    observed = Observed()
    run_scenarios(workflow(linked_schema(base_url, later_slot_ids(api)), observed), observed)

    answers = observed.answers
    print("STATS", observed.scenarios, sorted(answers.items()))
    assert not observed.failures, "\n\n".join(observed.failures)
    assert answers[(BOOK, 201)] > 0, answers
    assert answers[(GET, 200)] > 0, answers
    assert answers[(CANCEL, 200)] > 0, answers
    assert answers[(RESCHEDULE, 200)] > 0, answers
    cancelled = api.get("/api/v1/appointments", params={"status": "cancelled"}).json()
    assert cancelled["total"] == answers[(CANCEL, 200)], cancelled
