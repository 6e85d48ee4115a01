"""A signed-in staff session, and the rule that limits failed sign-ins."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffSession:
    """A session lives while it is used: it expires after `idle` without a request, and
    in any case `lifetime` after sign-in (a stolen cookie is not good forever).

    Only `token_digest` (SHA-256 of the cookie's token) is stored, so a copy of the
    database opens no console.
    """

    token_digest: str
    email: str
    created_at: datetime
    last_seen_at: datetime

    def is_expired(self, now: datetime, *, idle: timedelta, lifetime: timedelta) -> bool:
        return now - self.last_seen_at >= idle or now - self.created_at >= lifetime

    def seen(self, now: datetime) -> StaffSession:
        return replace(self, last_seen_at=now)


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """At most `max_failures` failed sign-ins per account and per client address within
    `window`; past that, even the right password is refused until the window slides."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def retry_after(self, failures: list[datetime], now: datetime) -> timedelta | None:
        """How long until another attempt is allowed, or None when one is allowed now."""
        recent = sorted(at for at in failures if now - at < self.window)
        if len(recent) < self.max_failures:
            return None
        oldest_counted = recent[-self.max_failures]
        return oldest_counted + self.window - now
