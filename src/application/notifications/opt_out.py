"""Use case: a patient texts STOP (or START) to the practice's number."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from application.ports import Clock, UnitOfWorkFactory
from domain.scheduling import PhoneNumber

log = logging.getLogger(__name__)

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
"""The carriers' standard opt-out and opt-in keywords (US short-code and 10DLC rules)."""


class OptOutChange(StrEnum):
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    NONE = "none"
    """Any other message: nothing changes (nobody reads replies)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingText:
    from_number: str
    body: str


def keyword_change(body: str) -> OptOutChange:
    """A message that is exactly one keyword, in any case and with surrounding blanks or
    a trailing full stop, changes the number's status; anything longer does not (so "I
    need to cancel my appointment" does not stop texts)."""
    word = body.strip().rstrip(".!").strip().upper()
    if word in STOP_WORDS:
        return OptOutChange.OPTED_OUT
    if word in START_WORDS:
        return OptOutChange.OPTED_IN
    return OptOutChange.NONE


class RecordOptOutHandler:
    """Store a STOP (no more texts to that number, checked when each text is due, so
    reminders already scheduled are skipped too) or a START (texts again). The number is
    normalised to E.164 first, so however the carrier wrote it, the same number matches
    the patients' records. Logs show the masked number only."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, default_region: str) -> None:
        self._uow, self._clock, self._region = uow, clock, default_region

    async def __call__(self, text: IncomingText) -> OptOutChange:
        """`InvalidInput` when the sender is not a phone number."""
        change = keyword_change(text.body)
        if change is OptOutChange.NONE:
            return change
        phone = PhoneNumber.parse(text.from_number, default_region=self._region)
        async with self._uow() as uow:
            if change is OptOutChange.OPTED_OUT:
                await uow.text_opt_outs.opt_out(phone, self._clock.now())
            else:
                await uow.text_opt_outs.opt_in(phone)
            await uow.commit()
        log.info("texts to %s: %s", phone.masked, change.value)
        return change
