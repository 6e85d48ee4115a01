"""Texts waiting to be sent, claimed as leases like webhook deliveries (`delivery_queue`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy import exists, select, update

from adapters.sql.database import Database
from adapters.sql.errors import translated_errors
from adapters.sql.tables import text_messages as texts
from adapters.sql.tables import text_opt_outs
from application.ports import DueText

MAX_ERROR_LENGTH = 500


class SqlAlchemyTextQueue:
    """`application.ports.TextQueue`: `FOR UPDATE SKIP LOCKED` on Postgres; SQLite's
    `BEGIN IMMEDIATE` serialises claimers."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def claim_due(self, now: datetime, lease_s: float, limit: int) -> list[DueText]:
        opted_out = exists().where(text_opt_outs.c.phone == texts.c.to_phone)
        statement = (
            select(
                texts.c.id,
                texts.c.to_phone,
                texts.c.body,
                texts.c.failed_attempts,
                opted_out.label("opted_out"),
            )
            .where(texts.c.status == "pending", texts.c.next_attempt_at <= now)
            .order_by(texts.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = uuid4()
        async with translated_errors(), self._database.session() as session, session.begin():
            rows = (await session.execute(statement)).all()
            if rows:
                await session.execute(
                    update(texts)
                    .where(texts.c.id.in_([row.id for row in rows]))
                    .values(claim=claim, next_attempt_at=now + timedelta(seconds=lease_s))
                )
        return [
            DueText(
                id=row.id,
                claim=claim,
                to=row.to_phone,
                body=row.body,
                failed_attempts=row.failed_attempts,
                opted_out=bool(row.opted_out),
            )
            for row in rows
        ]

    async def record(
        self,
        due: DueText,
        *,
        sent_id: str | None,
        failed_attempts: int,
        next_attempt_at: datetime | None,
        error: str | None,
    ) -> bool:
        status = "sent" if sent_id else "pending" if next_attempt_at else "failed"
        return await self._finish(
            due,
            status=status,
            sent_id=sent_id,
            failed_attempts=failed_attempts,
            next_attempt_at=next_attempt_at,
            last_error=error[:MAX_ERROR_LENGTH] if error else None,
        )

    async def skip(self, due: DueText, reason: str) -> bool:
        return await self._finish(
            due, status="skipped", next_attempt_at=None, last_error=reason[:MAX_ERROR_LENGTH]
        )

    async def _finish(self, due: DueText, **values: object) -> bool:
        """Record the attempt if the claim still holds (and the text was not voided)."""
        statement = (
            update(texts)
            .where(texts.c.id == due.id, texts.c.claim == due.claim, texts.c.status == "pending")
            .values(claim=None, **values)
        )
        async with translated_errors(), self._database.session() as session, session.begin():
            result = await session.execute(statement)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
