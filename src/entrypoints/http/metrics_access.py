"""Who may read `/metrics`: the holder of FRONTDESK_METRICS_TOKEN, or else loopback only.

The metrics name no patient, but they show call volume, tool failures and the process's
resources: not for the public internet, even when the proxy in front forgets to hide it.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from pydantic import SecretStr

from entrypoints.http.auth import Guard
from entrypoints.http.problems import Forbidden, Unauthorized


def metrics_guard(token: SecretStr | None) -> Guard:
    """With `token`: require `Authorization: Bearer <token>` (constant-time compare;
    `Unauthorized` otherwise), from anywhere. Without: admit loopback clients only
    (`Forbidden` for others). Behind a proxy on the same host, uvicorn's trusted proxy
    headers make the client the proxy's client, so proxied scrapes need the token."""
    expected = token.get_secret_value().encode() if token is not None else None

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if expected is None:
            host = connection.client.host if connection.client else ""
            if not _is_loopback(host):
                raise Forbidden(
                    "/metrics answers loopback clients only; set FRONTDESK_METRICS_TOKEN "
                    "to scrape it from elsewhere."
                )
            return
        scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), expected
        ):
            raise Unauthorized("Send the metrics token as 'Authorization: Bearer <token>'.")

    return guard


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
