"""`Notifier` over Telnyx's Messaging API v2 (`POST /v2/messages`, JSON, a Bearer API key).

Failures become `TextNotSent`: 4xx answers (a bad or opted-out number, a sender not on
the account's messaging profile, a refused key) are permanent, except 429; 5xx and
network errors are worth a retry. Neither numbers, bodies nor the key are logged.
"""

from __future__ import annotations

from typing import Final

import httpx

from application.ports import TextNotSent

DEFAULT_API_BASE_URL: Final = "https://api.telnyx.com"
TIMEOUT_S: Final = 10.0


class TelnyxTextNotifier:
    """One HTTP client per process (`aclose` at shutdown)."""

    def __init__(
        self, api_key: str, *, from_number: str, base_url: str = DEFAULT_API_BASE_URL
    ) -> None:
        self._from = from_number
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=TIMEOUT_S,
            follow_redirects=False,
        )

    async def send_text(self, to: str, body: str) -> str:
        try:
            response = await self._client.post(
                "/v2/messages", json={"from": self._from, "to": to, "text": body}
            )
        except httpx.HTTPError as error:
            raise TextNotSent(
                f"could not reach Telnyx ({type(error).__name__})", permanent=False
            ) from None
        if response.status_code >= 300:
            permanent = 400 <= response.status_code < 500 and response.status_code != 429
            raise TextNotSent(
                f"Telnyx refused the message: HTTP {response.status_code}, "
                f"code {_error_code(response)}",
                permanent=permanent,
            )
        try:
            message_id = response.json()["data"]["id"]
        except (ValueError, KeyError, TypeError):
            raise TextNotSent("Telnyx answered without a message id", permanent=False) from None
        return str(message_id)

    async def aclose(self) -> None:
        await self._client.aclose()


def _error_code(response: httpx.Response) -> str:
    """The first error's `code` in Telnyx's `{"errors": [{"code", "title", ...}]}`."""
    try:
        return str(response.json()["errors"][0]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return "none"
