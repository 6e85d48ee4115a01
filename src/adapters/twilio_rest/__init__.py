"""Twilio's REST API for `frontdesk setup`: list, search, buy, point and release numbers."""

from adapters.twilio_rest.errors import TwilioSetupError
from adapters.twilio_rest.numbers import (
    DEFAULT_API_BASE_URL,
    AvailableNumber,
    OwnedNumber,
    TwilioNumbers,
)

__all__ = [
    "DEFAULT_API_BASE_URL",
    "AvailableNumber",
    "OwnedNumber",
    "TwilioNumbers",
    "TwilioSetupError",
]
