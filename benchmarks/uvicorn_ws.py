"""`frontdesk serve` with another of uvicorn's WebSocket implementations, for
`benchmarks.server_choice`:

    python -m benchmarks.uvicorn_ws wsproto serve --port 8000 --workers 1

The first argument is uvicorn's `ws` option (`websockets-sansio`, `websockets`,
`wsproto`); the rest is the `frontdesk` command line, run unchanged. The server's own
`uvicorn_config` is wrapped here to add the option, so the production code keeps no
switch for it.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

import entrypoints.server
from entrypoints.cli import main as frontdesk

CHOICES = ("websockets-sansio", "websockets", "wsproto")


def with_ws(ws: str) -> None:
    """Make every uvicorn configuration the server builds use `ws`."""
    original = entrypoints.server.uvicorn_config

    def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
        return original(app, ws=ws, **options)

    # `run_server` imports it from the module when it runs, so this is what it finds
    entrypoints.server.uvicorn_config = uvicorn_config


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in CHOICES:
        raise SystemExit(f"usage: python -m benchmarks.uvicorn_ws {{{','.join(CHOICES)}}} ...")
    with_ws(sys.argv[1])
    return frontdesk(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
