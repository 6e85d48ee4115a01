"""REST API fixtures: a real server on a real port over `database_url`, and httpx clients.

A module picks the engine by overriding `engine_name` (test_rest_api.py: PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.support.api_server import API_KEY, api_container, serve


@pytest.fixture
def base_url(database_url: str) -> Iterator[str]:
    with serve(api_container(database_url=database_url)) as url:
        yield url


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    """An httpx client with a valid API key."""
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def anonymous(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client
