"""Liveness and readiness probes; open, no API key."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from entrypoints.http.capacity import CallCapacity
from entrypoints.http.schemas import Health, Readiness

logger = logging.getLogger(__name__)


@get("/healthz", summary="Liveness: the process answers", tags=["health"])
async def healthz() -> Health:
    return Health(status="ok")


@get(
    "/readyz",
    summary=(
        "Readiness: the database answers, its schema is at the latest migration (`schema`:"
        " ok, missing, behind, ahead or unknown), and the instance is admitting calls (not"
        " draining after SIGTERM); on Postgres, also whether the live call events relay is"
        " listening (`live_events`, reported but not required)"
    ),
    tags=["health"],
    responses={503: ResponseSpec(data_container=Readiness, description="A check failed")},
)
async def readyz(
    database: NamedDependency[Any],
    capacity: NamedDependency[CallCapacity],
    event_relay: NamedDependency[Any],
) -> Response[Readiness]:
    checks = {
        "database": await _check(database.ping, "unreachable"),
        "schema": await _schema(database),
        "admitting_calls": "draining" if capacity.draining else "ok",
    }
    ready = all(v == "ok" for v in checks.values())
    if event_relay is not None:  # reported, not required: the feed is best effort
        checks["live_events"] = "ok" if event_relay.listening.is_set() else "not_listening"
    return Response(
        Readiness(status="ready" if ready else "not_ready", checks=checks),
        status_code=200 if ready else 503,
    )


async def _schema(database: Any) -> str:
    """`ok`, `missing` (never migrated), `behind` (run `frontdesk migrate`), `ahead` (a
    newer release migrated it), or `unknown` when the database cannot be asked."""
    try:
        status: str = await database.schema_status()
    except Exception as exc:
        logger.warning("readiness check schema failed: %s", exc)
        return "unknown"
    return status


async def _check(probe: Any, failure: str) -> str:
    """`ok` when the probe returns truthy (sync or async); otherwise why not, briefly."""
    try:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        logger.warning("readiness check %s failed: %s", getattr(probe, "__name__", probe), exc)
        return failure
    return "ok" if result is not False else failure
