"""Runs the real HTTP app under uvicorn on a free loopback port, in a background thread.

The listening socket is bound and put in listen mode before the server starts, so a
client's first request simply waits in the backlog until uvicorn accepts it: no
sleeping, no guessing when the server is up.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from dependency_injector import providers
from pydantic import SecretStr

from application.ports import Clock
from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.server import uvicorn_config
from entrypoints.settings import Settings
from tests.support.api_practice import api_practice
from tests.support.clock import FixedClock

API_KEY = "test-key-0123456789"
OTHER_API_KEY = "other-key-9876543210"
NOW = datetime(2030, 12, 2, 13, 0, tzinfo=UTC)
"""A Monday, 08:00 in New York: the practice opens in an hour."""


def api_container(
    *,
    database_url: str | None = None,
    api_keys: list[str] | None = None,
    clock: Clock | None = None,
    **settings: Any,
) -> Container:
    """A container on the test practice and a fixed clock (or `clock`); storage per
    `database_url`; `settings` are further `Settings` fields."""
    container = Container()
    keys = [API_KEY, OTHER_API_KEY] if api_keys is None else api_keys
    container.settings.override(
        providers.Object(
            Settings(
                database_url=SecretStr(database_url) if database_url else None,
                frontdesk_api_keys=[SecretStr(k) for k in keys],
                **settings,
            )
        )
    )
    container.practice.override(providers.Object(api_practice()))
    container.clock.override(providers.Object(clock or FixedClock(NOW)))
    return container


@contextmanager
def serve(container: Container, **app_options: Any) -> Iterator[str]:
    """`create_app(container, **app_options)` served on 127.0.0.1 with the production
    uvicorn configuration; yields the base URL, stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn_config(create_app(container, **app_options), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_healthy(base_url, thread)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _wait_until_healthy(base_url: str, thread: threading.Thread, attempts: int = 50) -> None:
    for _ in range(attempts):
        if not thread.is_alive():
            raise RuntimeError("the server thread died while starting")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            continue
    raise RuntimeError(f"the server at {base_url} never became healthy")
