"""Our OpenAPI document against our server: generated requests, no 5xx, conforming responses.

The schema is loaded from the running server's /schema, so what is published is what
is tested. The server runs on the embedded SQLite engine (the e2e suite covers
PostgreSQL); the number of examples per operation is bounded to keep this under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.support.api_server import API_KEY, api_container, serve

from adapters.sql import upgrade_to_head

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("contract") / "frontdesk.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_to_head(url)
    with serve(api_container(database_url=url)) as running:
        yield running


@pytest.fixture(scope="module")
def published_schema(base_url: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
    schema.config.update(base_url=base_url)
    return schema


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_operation_answers_without_server_errors_and_as_documented(
    published_schema: Any,
) -> None:
    # schemathesis' pytest plugin (from_fixture) touches pytest internals that pytest 9
    # removed, so each operation's hypothesis test is built and run here instead.
    failures: list[str] = []
    operations = [result.ok() for result in published_schema.get_all_operations()]
    assert len(operations) >= 9, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            case.call_and_validate(headers=AUTH, checks=CHECKS)

        try:
            conforms()
        except Exception as failure:  # report every operation, not only the first
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
