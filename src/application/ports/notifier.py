"""Texts to patients: the message, and the port that sends it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID, uuid4


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage:
    """One SMS to send; `to` is E.164. Its repr hides the number and the body."""

    to: str = field(repr=False)
    body: str = field(repr=False)
    created_at: datetime
    id: UUID = field(default_factory=uuid4)


class TextNotSent(Exception):
    """The text was not accepted. `permanent`: trying again cannot help (a bad number,
    an opted-out recipient, refused credentials); otherwise retry later."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


class Notifier(Protocol):
    async def send_text(self, to: str, body: str) -> str:
        """Hand one SMS to the provider; its id for the message. Raises `TextNotSent`."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DueText:
    """A text claimed for one attempt; `claim` proves the claim when recording."""

    id: UUID
    claim: UUID
    to: str = field(repr=False)
    body: str = field(repr=False)
    failed_attempts: int


class TextQueue(Protocol):
    """Texts written through the outbox; claims are leases, as for webhook deliveries."""

    async def claim_due(self, now: datetime, lease_s: float, limit: int) -> list[DueText]: ...

    async def record(
        self,
        due: DueText,
        *,
        sent_id: str | None,
        failed_attempts: int,
        next_attempt_at: datetime | None,
        error: str | None,
    ) -> bool:
        """Sent (`sent_id`), to be retried (`next_attempt_at`), or failed for good (neither).
        False if the claim had lapsed."""
        ...
