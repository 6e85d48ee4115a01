"""Use case: the webhook deliveries and texts about a call or an appointment (console)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from uuid import UUID

from application.ports.outbound_log import DeliveryRecord, OutboundLog, TextRecord


@dataclass(frozen=True, slots=True)
class OutboundHistory:
    deliveries: list[DeliveryRecord]
    texts: list[TextRecord]


class OutboundHistoryHandler:
    """Reads only. `subjects` are the call or appointment ids events are about;
    `appointments` the appointments whose texts to show (a call's: those it touched)."""

    def __init__(self, log: OutboundLog) -> None:
        self._log = log

    async def __call__(
        self, *, subjects: Collection[UUID], appointments: Collection[UUID]
    ) -> OutboundHistory:
        deliveries = await self._log.deliveries_about(subjects) if subjects else []
        texts = await self._log.texts_about(appointments) if appointments else []
        return OutboundHistory(deliveries=deliveries, texts=texts)
