"""Staff accounts, their sessions and failed sign-ins, in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import translated_errors
from adapters.sql.repositories import PendingWrites
from adapters.sql.tables import login_failures, staff_accounts, staff_sessions
from domain.staff import Role, StaffAccount, StaffSession


def _account(row: Row[Any]) -> StaffAccount:
    return StaffAccount(
        email=row.email,
        role=Role(row.role),
        password_hash=row.password_hash,
        created_at=row.created_at,
    )


class _Reads:
    def __init__(self, session: AsyncSession, writes: PendingWrites) -> None:
        self._session, self._writes = session, writes

    async def _rows(self, statement: Any) -> list[Row[Any]]:
        await self._writes.flush()
        async with translated_errors():
            return list((await self._session.execute(statement)).all())


class SqlAlchemyStaffAccounts(_Reads):
    async def add(self, account: StaffAccount) -> None:
        self._writes.add(
            insert(staff_accounts).values(
                email=account.email,
                role=account.role.value,
                password_hash=account.password_hash,
                created_at=account.created_at,
            )
        )

    async def get(self, email: str) -> StaffAccount | None:
        rows = await self._rows(select(staff_accounts).where(staff_accounts.c.email == email))
        return _account(rows[0]) if rows else None

    async def all(self) -> list[StaffAccount]:
        rows = await self._rows(select(staff_accounts).order_by(staff_accounts.c.email))
        return [_account(row) for row in rows]

    async def remove(self, email: str) -> bool:
        found = await self.get(email)
        self._writes.add(delete(staff_sessions).where(staff_sessions.c.email == email))
        self._writes.add(delete(staff_accounts).where(staff_accounts.c.email == email))
        return found is not None


class SqlAlchemyStaffSessions(_Reads):
    async def add(self, session: StaffSession) -> None:
        self._writes.add(
            insert(staff_sessions).values(
                token_digest=session.token_digest,
                email=session.email,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
            )
        )

    async def get(self, token_digest: str) -> StaffSession | None:
        rows = await self._rows(
            select(staff_sessions).where(staff_sessions.c.token_digest == token_digest)
        )
        if not rows:
            return None
        row = rows[0]
        return StaffSession(
            token_digest=row.token_digest,
            email=row.email,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )

    async def touch(self, session: StaffSession) -> None:
        self._writes.add(
            update(staff_sessions)
            .where(staff_sessions.c.token_digest == session.token_digest)
            .values(last_seen_at=session.last_seen_at)
        )

    async def remove(self, token_digest: str) -> None:
        self._writes.add(
            delete(staff_sessions).where(staff_sessions.c.token_digest == token_digest)
        )


class SqlAlchemyLoginFailures(_Reads):
    async def add(self, subject: str, at: datetime) -> None:
        self._writes.add(insert(login_failures).values(id=uuid4(), subject=subject, at=at))

    async def since(self, subjects: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        rows = await self._rows(
            select(login_failures.c.subject, login_failures.c.at).where(
                login_failures.c.subject.in_(list(subjects)), login_failures.c.at >= since
            )
        )
        found: dict[str, list[datetime]] = {}
        for row in rows:
            found.setdefault(row.subject, []).append(row.at)
        return found

    async def forget(self, subject: str, *, before: datetime | None = None) -> None:
        statement = delete(login_failures).where(login_failures.c.subject == subject)
        if before is not None:
            statement = statement.where(login_failures.c.at < before)
        self._writes.add(statement)
