"""`WebhookSender` over httpx: one POST per attempt, a hard timeout, no redirects."""

from __future__ import annotations

import time

import httpcore
import httpx

from adapters.httpx_webhooks.guard import AddressRefused, GuardedBackend, Resolver, system_resolver
from application.ports import SendResult, WebhookRequest

__all__ = ["HttpxWebhookSender", "Resolver", "system_resolver"]


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on the guarded network backend
    (httpx takes no backend argument; its pool is rebuilt with the same TLS context)."""

    def __init__(self, resolve: Resolver, max_connections: int) -> None:
        super().__init__()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=max_connections,
            network_backend=GuardedBackend(resolve),
        )


class HttpxWebhookSender:
    """Sends with one shared `httpx.AsyncClient`; `aclose` it at shutdown.

    Unless `allow_private` (development and tests), every connection is opened through
    `GuardedBackend`: private, loopback and link-local destinations are refused after
    resolution, on every attempt. Redirects are not followed (a 3xx is a failure) and the
    response body is never read. Errors name the kind of failure, never the secret or
    the body.
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        allow_private: bool,
        resolve: Resolver = system_resolver,
        max_connections: int = 20,
    ) -> None:
        transport: httpx.AsyncBaseTransport = (
            httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=max_connections))
            if allow_private
            else _GuardedTransport(resolve, max_connections)
        )
        self._timeout_s = timeout_s
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
        )

    async def send(self, request: WebhookRequest) -> SendResult:
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            async with self._client.stream(
                "POST", request.url, content=request.body, headers=dict(request.headers)
            ) as response:
                status_code = response.status_code
        except AddressRefused as refused:
            error = f"destination refused: {refused}"
        except httpx.TimeoutException:
            error = f"timed out after {self._timeout_s:g} s"
        except httpx.ConnectError as failed:
            error = f"connection failed: {failed}"
        except httpx.HTTPError as failed:
            error = f"{type(failed).__name__}: {failed}"
        latency_ms = (time.perf_counter() - started) * 1000
        return SendResult(status_code=status_code, error=error, latency_ms=latency_ms)

    async def aclose(self) -> None:
        await self._client.aclose()
