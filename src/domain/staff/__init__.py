"""Practice staff: the people who sign in to the console, and their sessions."""

from domain.staff.account import (
    MIN_PASSWORD_LENGTH,
    InvalidStaffInput,
    Role,
    StaffAccount,
    StaffAccountExists,
    StaffAccountNotFound,
    check_password,
    normalise_email,
)
from domain.staff.session import LoginThrottle, StaffSession

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "InvalidStaffInput",
    "LoginThrottle",
    "Role",
    "StaffAccount",
    "StaffAccountExists",
    "StaffAccountNotFound",
    "StaffSession",
    "check_password",
    "normalise_email",
]
