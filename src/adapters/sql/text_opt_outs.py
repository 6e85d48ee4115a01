"""Numbers that texted STOP: one row per E.164 number, removed by START."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import translated_errors
from adapters.sql.repositories import PendingWrites
from adapters.sql.tables import text_opt_outs
from domain.scheduling import PhoneNumber


class SqlAlchemyTextOptOuts:
    """`application.ports.TextOptOuts`. A repeated STOP (or two at once) keeps the first
    row: the insert does nothing on conflict, on both engines."""

    def __init__(self, session: AsyncSession, writes: PendingWrites) -> None:
        self._session, self._writes = session, writes

    async def opt_out(self, phone: PhoneNumber, at: datetime) -> None:
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        self._writes.add(
            dialect.insert(text_opt_outs)
            .values(phone=phone.e164, opted_out_at=at)
            .on_conflict_do_nothing(index_elements=["phone"])
        )

    async def opt_in(self, phone: PhoneNumber) -> None:
        self._writes.add(delete(text_opt_outs).where(text_opt_outs.c.phone == phone.e164))

    async def is_opted_out(self, phone: PhoneNumber) -> bool:
        await self._writes.flush()
        statement = select(text_opt_outs.c.phone).where(text_opt_outs.c.phone == phone.e164)
        async with translated_errors():
            return (await self._session.execute(statement)).first() is not None
