"""The server's ASGI app for granian, for `benchmarks.server_choice`:

    granian --interface asgi --loop uvloop --workers 1 benchmarks.granian_app:app

Built from the environment as `frontdesk serve` builds it for one process (the CLI's
logging set-up, then `run_server`'s container and `create_app`, then the start-up
objects frozen out of the garbage collector's reach); granian does the rest. Not a way
to run frontdesk: there is no drain on SIGTERM, no `--workers` supervisor of ours and no
proxy-header handling.
"""

from __future__ import annotations

from dependency_injector import providers

from entrypoints.commands import _freeze_startup_objects
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.observability.logging import configure_logging
from entrypoints.settings import Settings

settings = Settings()
configure_logging(
    level=settings.log_level, log_format=settings.log_format, secrets=settings.secrets
)
container = Container()
container.settings.override(providers.Object(settings))
app = create_app(container)
_freeze_startup_objects()
