"""The SQL unit of work: one session, one transaction, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.call_repository import SqlAlchemyCallRepository
from adapters.sql.database import Database
from adapters.sql.errors import translate, translated_errors
from adapters.sql.outbox import SqlAlchemyOutbox
from adapters.sql.repositories import (
    PendingWrites,
    SqlAlchemyAppointmentRepository,
    SqlAlchemyIdempotencyRecords,
)
from adapters.sql.staff_repository import (
    SqlAlchemyLoginFailures,
    SqlAlchemyStaffAccounts,
    SqlAlchemyStaffSessions,
)
from adapters.sql.text_opt_outs import SqlAlchemyTextOptOuts


class SqlAlchemyUnitOfWork:
    """`application.ports.UnitOfWork` over SQLAlchemy. Make a fresh one per use case.

    Errors are translated in `adapters.sql.errors`: the overlap rule becomes `SlotTaken`,
    a repeated idempotency key `DuplicateIdempotencyKey`, a lost database
    `StorageUnavailable` — at commit, or earlier where Postgres reports them.

    `on_outbox_commit` is called after a commit that wrote outbox events (it wakes this
    process's webhook dispatcher); it must not block or raise.
    """

    appointments: SqlAlchemyAppointmentRepository
    idempotency: SqlAlchemyIdempotencyRecords
    calls: SqlAlchemyCallRepository
    staff: SqlAlchemyStaffAccounts
    staff_sessions: SqlAlchemyStaffSessions
    login_failures: SqlAlchemyLoginFailures
    outbox: SqlAlchemyOutbox
    text_opt_outs: SqlAlchemyTextOptOuts

    def __init__(
        self, database: Database, on_outbox_commit: Callable[[], None] | None = None
    ) -> None:
        self._database = database
        self._on_outbox_commit = on_outbox_commit
        self._session: AsyncSession | None = None
        self._writes: PendingWrites | None = None
        self._committed = False

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a unit of work is entered once")
        self._session = self._database.session()
        self._writes = PendingWrites(self._session)
        self.appointments = SqlAlchemyAppointmentRepository(self._session, self._writes)
        self.idempotency = SqlAlchemyIdempotencyRecords(self._session, self._writes)
        self.calls = SqlAlchemyCallRepository(self._session, self._writes)
        self.staff = SqlAlchemyStaffAccounts(self._session, self._writes)
        self.staff_sessions = SqlAlchemyStaffSessions(self._session, self._writes)
        self.login_failures = SqlAlchemyLoginFailures(self._session, self._writes)
        self.outbox = SqlAlchemyOutbox(self._writes)
        self.text_opt_outs = SqlAlchemyTextOptOuts(self._session, self._writes)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            if not self._committed:
                await self._session.rollback()
            await self._session.close()
        except Exception as error:
            # An error already on its way out matters more than a failed rollback.
            if exc is not None:
                return
            replacement = translate(error)
            if replacement is None:
                raise
            raise replacement from error

    async def commit(self) -> None:
        assert self._session is not None, "enter the unit of work first"
        assert self._writes is not None
        await self._writes.flush()
        async with translated_errors():
            await self._session.commit()
        self._committed = True
        if self.outbox.added and self._on_outbox_commit is not None:
            self._on_outbox_commit()
