"""Phone numbers on a Twilio account, through the `twilio` package's REST client.

Calls are synchronous (the package uses `requests`); the command runs them one at a time.
Every failure leaves as a `TwilioSetupError` in plain words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from adapters.twilio_rest.errors import no_numbers_available, translate

DEFAULT_API_BASE_URL = "https://api.twilio.com"
TIMEOUT_S = 20.0
# The package logs every request at INFO; setup's own lines say what happens.
_HTTP_LOG = logging.getLogger("adapters.twilio_rest.http")
_HTTP_LOG.setLevel(logging.WARNING)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OwnedNumber:
    sid: str
    phone_number: str
    friendly_name: str
    voice_url: str
    status_callback: str


@dataclass(frozen=True, slots=True)
class AvailableNumber:
    phone_number: str
    friendly_name: str
    locality: str
    region: str


class _RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends every request to `base_url` instead of Twilio's host (keeps path and query).

    The package builds absolute `https://api.twilio.com/...` URLs per domain; rewriting
    them here is the one hook it offers that covers every domain and region setting.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=TIMEOUT_S, logger=_HTTP_LOG)
        self._base = urlsplit(base_url.rstrip("/"))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        rebased = urlunsplit(
            (
                self._base.scheme,
                self._base.netloc,
                self._base.path + parts.path,
                parts.query,
                parts.fragment,
            )
        )
        return super().request(method, rebased, *args, **kwargs)


def _owned(record: Any) -> OwnedNumber:
    return OwnedNumber(
        sid=str(record.sid),
        phone_number=str(record.phone_number),
        friendly_name=str(record.friendly_name or ""),
        voice_url=str(record.voice_url or ""),
        status_callback=str(record.status_callback or ""),
    )


class TwilioNumbers:
    """One account's numbers. `base_url` is Twilio's API host unless configured otherwise."""

    def __init__(
        self, account_sid: str, auth_token: str, *, base_url: str = DEFAULT_API_BASE_URL
    ) -> None:
        self._base_url = base_url.rstrip("/")
        http_client = (
            TwilioHttpClient(timeout=TIMEOUT_S, logger=_HTTP_LOG)
            if self._base_url == DEFAULT_API_BASE_URL
            else _RebasedHttpClient(self._base_url)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)

    def _call(self, doing: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except (TwilioException, OSError) as error:  # requests' errors are OSErrors
            raise translate(error, doing=doing, base_url=self._base_url) from None

    def list_owned(self) -> list[OwnedNumber]:
        records = self._call(
            "listing the account's numbers", lambda: self._client.incoming_phone_numbers.list()
        )
        return [_owned(r) for r in records]

    def fetch(self, sid: str) -> OwnedNumber:
        record = self._call(
            f"fetching number {sid}", lambda: self._client.incoming_phone_numbers(sid).fetch()
        )
        return _owned(record)

    def search_local(
        self, area_code: str, *, country: str = "US", limit: int = 5
    ) -> list[AvailableNumber]:
        """Numbers for sale in `area_code`; raises when there are none, naming the code."""
        records = self._call(
            f"searching area code {area_code}",
            lambda: self._client.available_phone_numbers(country).local.list(
                area_code=area_code, voice_enabled=True, limit=limit
            ),
        )
        found = [
            AvailableNumber(
                phone_number=str(r.phone_number),
                friendly_name=str(r.friendly_name or r.phone_number),
                locality=str(r.locality or ""),
                region=str(r.region or ""),
            )
            for r in records
        ]
        if not found:
            raise no_numbers_available(area_code)
        return found

    def buy(self, phone_number: str) -> OwnedNumber:
        """Buys `phone_number` (this spends money on the account)."""
        record = self._call(
            f"buying {phone_number}",
            lambda: self._client.incoming_phone_numbers.create(
                phone_number=phone_number, friendly_name="frontdesk"
            ),
        )
        return _owned(record)

    def point(self, sid: str, *, voice_url: str, status_callback: str) -> OwnedNumber:
        """Sets the number's incoming-call webhook and status callback (both POST)."""
        record = self._call(
            f"pointing number {sid} at {voice_url}",
            lambda: self._client.incoming_phone_numbers(sid).update(
                voice_url=voice_url,
                voice_method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
            ),
        )
        return _owned(record)

    def unpoint(self, sid: str) -> OwnedNumber:
        """Clears the webhook and status callback; calls then get Twilio's default reply."""
        record = self._call(
            f"clearing the webhooks of number {sid}",
            lambda: self._client.incoming_phone_numbers(sid).update(
                voice_url="", status_callback=""
            ),
        )
        return _owned(record)

    def release(self, sid: str) -> None:
        """Gives the number back to Twilio. It cannot be bought back reliably."""
        self._call(
            f"releasing number {sid}", lambda: self._client.incoming_phone_numbers(sid).delete()
        )
