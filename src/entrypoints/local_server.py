"""The whole server in this process, on a free loopback port, for as long as a command
needs it (`demo`, `eval`): the same app, container and uvicorn configuration as
`serve`, on the embedded database, in the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from dependency_injector import providers

from adapters.sql import upgrade_to_head
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.server import uvicorn_config
from entrypoints.settings import Settings

STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class LocalServer:
    base_url: str
    container: Container


class _Server(uvicorn.Server):
    """uvicorn, telling when it listens, and leaving signals to the command."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def local_server(settings: Settings) -> AsyncIterator[LocalServer]:
    """Serve on 127.0.0.1 with `settings` (PUBLIC_URL and PORT set to the port found),
    migrating its embedded database first; stops on exit. Raises `RuntimeError` when
    the server does not start."""
    if not settings.embedded_database:
        raise ValueError("a local server runs on the embedded database only")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = int(sock.getsockname()[1])
    base_url = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"port": port, "public_url": base_url})
    container = Container()
    container.settings.override(providers.Object(settings))
    container.practice()
    container.voice_agent()  # a bad script fails here, naming its key
    settings.frontdesk_data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade_to_head, settings.resolved_database_url())
    server = _Server(
        uvicorn_config(create_app(container), log_level="warning", log_config=None, lifespan="on")
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]), name="local-server")
    try:
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if not server.listening.is_set():
            raise RuntimeError("the server did not start (see the log above)")
        yield LocalServer(base_url, container)
    finally:
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(serving, STOP_TIMEOUT_S)
        sock.close()
