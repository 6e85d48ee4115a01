"""Use cases: resume a staff session from its cookie token, and sign out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWorkFactory
from application.staff.sign_in import token_digest
from domain.staff import StaffAccount

TOUCH_EVERY = timedelta(minutes=1)
"""`last_seen_at` is written at most this often: a page load is not a database write."""


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=12)
    lifetime: timedelta = timedelta(days=7)


class ResumeSessionHandler:
    """The account behind a session token, or None: unknown token, expired session (it
    is deleted), or an account removed since. Using a session keeps it alive."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: SessionPolicy) -> None:
        self._uow, self._clock, self._policy = uow, clock, policy

    async def __call__(self, token: str) -> StaffAccount | None:
        now, digest = self._clock.now(), token_digest(token)
        async with self._uow() as uow:
            session = await uow.staff_sessions.get(digest)
            if session is None:
                return None
            if session.is_expired(now, idle=self._policy.idle, lifetime=self._policy.lifetime):
                await uow.staff_sessions.remove(digest)
                await uow.commit()
                return None
            account = await uow.staff.get(session.email)
            if account is None:
                return None
            if now - session.last_seen_at >= TOUCH_EVERY:
                await uow.staff_sessions.touch(session.seen(now))
                await uow.commit()
        return account


class SignOutHandler:
    """Delete the session; signing out twice is not an error."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, token: str) -> None:
        async with self._uow() as uow:
            await uow.staff_sessions.remove(token_digest(token))
            await uow.commit()
