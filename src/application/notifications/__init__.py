"""Texts to patients: confirmation messages, and their delivery through the outbox."""

from application.notifications.confirmations import ConfirmationTexts
from application.notifications.dispatcher import TEXT_RETRY_DELAYS, TextDispatcher

__all__ = ["TEXT_RETRY_DELAYS", "ConfirmationTexts", "TextDispatcher"]
