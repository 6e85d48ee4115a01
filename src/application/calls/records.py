"""Use cases: read call records, a filtered page or one call with its transcript."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from uuid import UUID

from application.ports import CallQuery, Page, UnitOfWorkFactory
from domain.calls import Call

MAX_PAGE_SIZE = 100


class CallNotFound(Exception):
    code = "call_not_found"
    message = "No call with that id."


class ListCallsHandler:
    """Newest first, without turns and tool invocations. Reads only."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, query: CallQuery) -> Page[Call]:
        bounded = CallQuery(
            status=query.status,
            from_number=query.from_number,
            started_from=query.started_from,
            started_before=query.started_before,
            limit=max(1, min(query.limit, MAX_PAGE_SIZE)),
            offset=max(0, query.offset),
        )
        async with self._uow() as uow:
            return await uow.calls.find(bounded)


class GetCallHandler:
    """One call with its turns and tool invocations, or `CallNotFound`: by our id, or by
    the reference its carrier gave it."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, call_id: UUID) -> Call:
        async with self._uow() as uow:
            call = await uow.calls.get(call_id)
        if call is None:
            raise CallNotFound()
        return call

    async def by_carrier(self, carrier: str, carrier_call_id: str) -> Call:
        async with self._uow() as uow:
            call = await uow.calls.get_by_carrier(carrier, carrier_call_id)
        if call is None:
            raise CallNotFound()
        return call


class CarrierReferencesHandler:
    """The carrier's reference for each of these calls that exists (for read models that
    still show it). Reads only."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, call_ids: Collection[UUID]) -> Mapping[UUID, str]:
        if not call_ids:
            return {}
        async with self._uow() as uow:
            return await uow.calls.carrier_references(call_ids)
