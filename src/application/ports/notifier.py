"""Texts to patients: the message, and the port that sends it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID, uuid4


class TextKind(StrEnum):
    CONFIRMATION = "confirmation"
    """Sent at once: an appointment was booked, moved or cancelled."""
    REMINDER = "reminder"
    """Sent at `send_at`, some hours before the appointment; voided if it changes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage:
    """One SMS to send; `to` is E.164. Its repr hides the number and the body.

    `send_at` (None: at once) is when it becomes due; `appointment_id` is the appointment
    it is about, so a reminder can be voided and staff can see an appointment's texts."""

    to: str = field(repr=False)
    body: str = field(repr=False)
    created_at: datetime
    id: UUID = field(default_factory=uuid4)
    kind: TextKind = TextKind.CONFIRMATION
    appointment_id: UUID | None = None
    send_at: datetime | None = None


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

    async def aclose(self) -> None:
        """Release the provider's connections (at shutdown)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DueText:
    """A text claimed for one attempt; `claim` proves the claim when recording.
    `opted_out`: the number has texted STOP since, so the text must not go."""

    id: UUID
    claim: UUID
    to: str = field(repr=False)
    body: str = field(repr=False)
    failed_attempts: int
    opted_out: bool = False


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

    async def skip(self, due: DueText, reason: str) -> bool:
        """Not sent and never to be (the number opted out). False if the claim had lapsed."""
        ...


class TextObserver(Protocol):
    def text_attempted(self, outcome: str) -> None:
        """`outcome`: sent, retried (will be tried again), failed (given up) or skipped
        (the number opted out)."""
        ...
