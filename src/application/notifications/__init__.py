"""Texts to patients: confirmation messages, and their delivery through the outbox."""

from application.notifications.confirmations import ConfirmationTexts
from application.notifications.dispatcher import TEXT_RETRY_DELAYS, TextDispatcher
from application.notifications.opt_out import (
    IncomingText,
    OptOutChange,
    RecordOptOutHandler,
    keyword_change,
)

__all__ = [
    "TEXT_RETRY_DELAYS",
    "ConfirmationTexts",
    "IncomingText",
    "OptOutChange",
    "RecordOptOutHandler",
    "TextDispatcher",
    "keyword_change",
]
