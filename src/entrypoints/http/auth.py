"""Bearer API keys for /api/v1: a Litestar guard, constant time, closed by default."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from pydantic import SecretStr

from entrypoints.http.auth_throttle import AuthFailureThrottle, AuthThrottled
from entrypoints.http.problems import Unauthorized
from entrypoints.http.rate_limit import RateLimiter
from entrypoints.observability.metrics import CallMetrics

SCOPE_STATE_KEY = "api_key_scope"

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def key_scope(key: str) -> str:
    """A stable, non-secret name for an API key (idempotency keys are scoped by it)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def bearer_guard(
    keys: Callable[[], Sequence[SecretStr]],
    limiter: RateLimiter,
    throttle: AuthFailureThrottle,
    metrics: CallMetrics,
) -> Guard:
    """Admit a request whose `Authorization: Bearer <key>` matches one of `keys()`.

    Every configured key is compared (hmac.compare_digest), so timing tells nothing
    about which key or how much of it matched. No keys configured: nothing is admitted.
    An invalid key counts against the client address in `throttle`; an address past its
    limit is refused (`AuthThrottled`, 429) before its key is even looked at. A missing
    key is a 401 but not a guess, so it is not counted.
    On success the key's scope is left in `connection.state` for the handlers, and the
    request is counted against that key's rate limit (`RateLimited` past it).
    """

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        configured = keys()
        if not configured:
            raise Unauthorized("The API is disabled: FRONTDESK_API_KEYS is unset on the server.")
        address = connection.client.host if connection.client else "unknown"
        try:
            throttle.check(address)
        except AuthThrottled:
            metrics.api_auth_throttled.inc()
            raise
        scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthorized("Send an API key as 'Authorization: Bearer <key>'.")
        candidate = presented.strip().encode()
        matched: str | None = None
        for secret in configured:
            key = secret.get_secret_value()
            if hmac.compare_digest(candidate, key.encode()):
                matched = key
        if matched is None:
            throttle.record_failure(address)
            metrics.api_auth_failures.inc()
            raise Unauthorized("Invalid API key.")
        scope = key_scope(matched)
        limiter.take(scope)
        connection.state[SCOPE_STATE_KEY] = scope

    return guard
