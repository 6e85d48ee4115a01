"""A rate limit per API key, on a real server: one client's loop does not starve another."""

from __future__ import annotations

import httpx
from dependency_injector import providers
from tests.support.api_server import API_KEY, OTHER_API_KEY, api_container, serve
from tests.support.fakes import FakeDatabase, FakeUnitOfWork, InMemoryStore


def test_requests_past_a_keys_limit_get_429_and_other_keys_are_unaffected() -> None:
    container = api_container()
    container.settings.override(
        providers.Object(container.settings().model_copy(update={"api_rate_limit_per_minute": 5}))
    )
    container.unit_of_work.override(providers.Factory(FakeUnitOfWork, InMemoryStore()))
    container.database.override(providers.Object(FakeDatabase()))
    with serve(container) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        first = {"Authorization": f"Bearer {API_KEY}"}
        statuses = [client.get("/api/v1/practice", headers=first).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        refused = client.get("/api/v1/practice", headers=first)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        other = client.get("/api/v1/practice", headers={"Authorization": f"Bearer {OTHER_API_KEY}"})
        assert other.status_code == 200
        assert client.get("/healthz").status_code == 200
