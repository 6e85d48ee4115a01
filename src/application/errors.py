"""Failures of the application's collaborators, as opposed to business rules."""

from __future__ import annotations


class StorageUnavailable(Exception):
    """The database cannot be reached or failed mid-transaction; nothing was committed."""

    code = "storage_unavailable"
    message = "The scheduling system is unavailable right now."


class DuplicateIdempotencyKey(Exception):
    """Another request with the same idempotency key committed first."""
