"""A staff account: who may sign in to the console, with which role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidStaffInput(Exception):
    """An email or password that can never be accepted; `message` says why."""

    code = "invalid_staff_input"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StaffAccountExists(Exception):
    code = "staff_account_exists"

    def __init__(self, email: str) -> None:
        super().__init__(f"There is already a staff account for {email}.")
        self.message = str(self)


class StaffAccountNotFound(Exception):
    code = "staff_account_not_found"

    def __init__(self, email: str) -> None:
        super().__init__(f"There is no staff account for {email}.")
        self.message = str(self)


class Role(StrEnum):
    """`admin` may later manage other staff; today both roles see the same console."""

    ADMIN = "admin"
    STAFF = "staff"


def normalise_email(raw: str) -> str:
    """Emails compare case-insensitively and without surrounding blanks, so
    `Ana@Example.com ` and `ana@example.com` are one account."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidStaffInput("That doesn't look like an email address.")
    return email


def check_password(password: str) -> None:
    """Length is the rule that matters (NIST SP 800-63B); no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidStaffInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidStaffInput(f"A password may have at most {MAX_PASSWORD_LENGTH} characters.")


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffAccount:
    """`password_hash` is an opaque PHC string from the password hasher; never the password."""

    email: str
    role: Role
    password_hash: str
    created_at: datetime

    def __post_init__(self) -> None:
        if normalise_email(self.email) != self.email:
            raise InvalidStaffInput("A staff account's email must be normalised.")
