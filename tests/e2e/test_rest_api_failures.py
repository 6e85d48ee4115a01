"""REST API v1 failure paths, on a real server whose ports are in-memory fakes.

Faults a real database will not produce on demand (an outage, a bug) are injected
by overriding container providers, the same seam the composition root offers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from tests.support.api_server import API_KEY, api_container, serve
from tests.support.fakes import FakeDatabase, FakeUnitOfWork, InMemoryStore

from application.errors import StorageUnavailable
from entrypoints.container import Container

AUTH = {"Authorization": f"Bearer {API_KEY}"}
ClientFor = Callable[[Container], httpx.Client]


def faked(container: Container, database: FakeDatabase | None = None) -> Container:
    container.unit_of_work.override(providers.Factory(FakeUnitOfWork, InMemoryStore()))
    container.database.override(providers.Object(database or FakeDatabase()))
    return container


@pytest.fixture
def client_for() -> Iterator[ClientFor]:
    """Serves a container's app for the test; returns an httpx client on it."""
    with ExitStack() as stack:

        def start(container: Container) -> httpx.Client:
            base_url = stack.enter_context(serve(container))
            return stack.enter_context(httpx.Client(base_url=base_url, timeout=10))

        yield start


class Unavailable:
    def __call__(self) -> Any:
        raise StorageUnavailable()


class Broken:
    async def __call__(self, command: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")


def test_the_api_is_closed_when_no_keys_are_configured(client_for: ClientFor) -> None:
    client = client_for(faked(api_container(api_keys=[])))
    response = client.get("/api/v1/practice", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "FRONTDESK_API_KEYS" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_readiness_names_the_check_that_failed(client_for: ClientFor) -> None:
    client = client_for(faked(api_container(), FakeDatabase(reachable=True, at_head=False)))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "checks": {"database": "ok", "schema": "behind", "admitting_calls": "ok"},
    }


def test_a_storage_outage_is_a_503_with_retry_after(client_for: ClientFor) -> None:
    container = faked(api_container())
    container.unit_of_work.override(providers.Factory(Unavailable()))
    client = client_for(container)
    response = client.get("/api/v1/slots", params={"service": "cleaning"}, headers=AUTH)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "storage_unavailable"
    assert int(response.headers["retry-after"]) > 0


def test_an_unexpected_error_is_a_500_that_leaks_nothing(client_for: ClientFor) -> None:
    container = faked(api_container())
    container.find_open_slots.override(providers.Object(Broken()))
    client = client_for(container)
    response = client.get("/api/v1/slots", params={"service": "cleaning"}, headers=AUTH)
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


def test_an_oversized_body_is_refused(client_for: ClientFor) -> None:
    client = client_for(faked(api_container()))
    response = client.post("/api/v1/appointments", content=b"x" * 70_000, headers=AUTH)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
