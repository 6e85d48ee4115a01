"""Where a webhook may be sent: https, and never to this network's own machines (SSRF)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.webhooks.errors import DestinationRefused, InvalidSubscription

MAX_URL_LENGTH = 2000
_LOCAL_NAMES = ("localhost", "localhost.", "localhost.localdomain")


def refused_address(address: str) -> str | None:
    """Why a webhook may not go to this IP address, or None if it may.

    Private, loopback, link-local (cloud metadata lives at 169.254.169.254), multicast,
    reserved and unspecified addresses are refused, as are IPv4 addresses wrapped in IPv6.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for refused, kind in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (ip.is_unspecified, "unspecified"),
        (not ip.is_global, "non-public"),
    ):
        if refused:
            return f"{address} is a {kind} address"
    return None


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked webhook URL. With `allow_private`, http and private hosts are allowed
    (development and tests only)."""

    url: str

    @classmethod
    def parse(cls, url: str, *, allow_private: bool) -> Destination:
        if not url or len(url) > MAX_URL_LENGTH:
            raise InvalidSubscription(
                f"The URL must be 1 to {MAX_URL_LENGTH} characters.", field="url"
            )
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as error:
            raise InvalidSubscription(f"The URL is malformed: {error}.", field="url") from error
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InvalidSubscription("The URL must be an absolute https:// URL.", field="url")
        if parts.username is not None or parts.password is not None:
            raise InvalidSubscription("The URL must not carry credentials.", field="url")
        if allow_private:
            return cls(url)
        if parts.scheme != "https":
            raise DestinationRefused("Webhook URLs must use https.", field="url")
        host = parts.hostname.lower()
        if host in _LOCAL_NAMES or host.endswith(".localhost"):
            raise DestinationRefused(f"{host} is this machine.", field="url")
        literal = _literal_ip(host)
        if literal is not None and (reason := refused_address(literal)) is not None:
            raise DestinationRefused(f"Webhooks cannot go to {reason}.", field="url")
        return cls(url)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""
