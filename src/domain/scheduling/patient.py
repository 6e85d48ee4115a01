"""Patients and their phone numbers, normalised to E.164 on construction."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from domain.scheduling.errors import InvalidInput

MAX_NAME_LENGTH = 120


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A phone number in E.164 (`+14155550123`). Build it with `parse`."""

    e164: str

    def __post_init__(self) -> None:
        if not (
            self.e164.startswith("+") and self.e164[1:].isdigit() and 8 <= len(self.e164) <= 16
        ):
            raise InvalidInput("That doesn't look like a phone number.", field="phone")

    @classmethod
    def parse(cls, raw: str, *, default_region: str) -> PhoneNumber:
        """Parse what a person typed or said; national numbers use `default_region` (ISO 3166)."""
        try:
            parsed = phonenumbers.parse(raw, default_region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidInput("That doesn't look like a phone number.", field="phone") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise InvalidInput("That phone number isn't valid.", field="phone")
        return cls(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    @property
    def masked(self) -> str:
        """The number as logs may show it: country code and last two digits only."""
        return f"{self.e164[:2]}******{self.e164[-2:]}"

    def __str__(self) -> str:
        return self.e164


@dataclass(frozen=True, slots=True)
class Patient:
    name: str
    phone: PhoneNumber

    def __post_init__(self) -> None:
        name = " ".join(self.name.split())
        if not name:
            raise InvalidInput("I need the patient's name.", field="patient_name")
        if len(name) > MAX_NAME_LENGTH or any(not ch.isprintable() for ch in name):
            raise InvalidInput("That name is not valid.", field="patient_name")
        object.__setattr__(self, "name", name)
