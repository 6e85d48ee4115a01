"""`Notifier` over Twilio Programmable Messaging (the `twilio` package's Messages resource).

The package is synchronous (`requests`), so each send runs in a worker thread. Failures
become `TextNotSent`: Twilio's 4xx answers (a bad or opted-out number, a sender the
account does not own, refused credentials) are permanent, except 429; 5xx and network
errors are worth a retry. Neither numbers nor bodies are logged.
"""

from __future__ import annotations

import asyncio

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from adapters.twilio_rest.numbers import (
    _HTTP_LOG,
    DEFAULT_API_BASE_URL,
    TIMEOUT_S,
    _RebasedHttpClient,
)
from application.ports import TextNotSent


class TwilioTextNotifier:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str,
        base_url: str = DEFAULT_API_BASE_URL,
    ) -> None:
        base_url = base_url.rstrip("/")
        http_client = (
            TwilioHttpClient(timeout=TIMEOUT_S, logger=_HTTP_LOG)
            if base_url == DEFAULT_API_BASE_URL
            else _RebasedHttpClient(base_url)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)
        self._from = from_number

    async def send_text(self, to: str, body: str) -> str:
        return await asyncio.to_thread(self._send, to, body)

    def _send(self, to: str, body: str) -> str:
        try:
            message = self._client.messages.create(to=to, from_=self._from, body=body)
        except TwilioRestException as error:
            permanent = 400 <= error.status < 500 and error.status != 429
            raise TextNotSent(
                f"Twilio refused the message: HTTP {error.status}, code {error.code}",
                permanent=permanent,
            ) from None
        except (TwilioException, OSError) as error:  # requests' errors are OSErrors
            raise TextNotSent(
                f"could not reach Twilio ({type(error).__name__})", permanent=False
            ) from None
        return str(message.sid)

    async def aclose(self) -> None:
        """Nothing to release: each send makes its own request in a worker thread."""
