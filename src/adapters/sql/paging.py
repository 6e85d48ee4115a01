"""One page of rows and the total they were cut from: the query every `find` runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.errors import translated_errors
from application.ports import Page

T = TypeVar("T")


async def fetch_page(
    session: AsyncSession,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    *,
    limit: int,
    offset: int,
    to_domain: Callable[[Row[Any]], T],
) -> Page[T]:
    """Rows of `table` matching every condition, in `order_by` (which must end on a
    unique column, so pages never overlap), `offset` rows in, at most `limit` of them."""
    count = select(func.count()).select_from(table).where(*conditions)
    page = select(table).where(*conditions).order_by(*order_by).limit(limit).offset(offset)
    async with translated_errors():
        total = (await session.execute(count)).scalar_one()
        rows = (await session.execute(page)).all()
    return Page(items=[to_domain(row) for row in rows], total=total)
