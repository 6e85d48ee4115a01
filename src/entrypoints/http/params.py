"""Parsing of query values that a type annotation alone cannot express."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.scheduling import InvalidInput


def parse_instant(value: str | None, *, field: str, zone: ZoneInfo, end: bool) -> datetime | None:
    """An ISO 8601 datetime or date as an aware instant.

    A datetime without an offset, and a date, are read in the practice's zone `zone`.
    A date as the end of a range (`end=True`) means the end of that day, so
    `from=2026-11-26&to=2026-11-26` covers the whole day.
    """
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            instant = datetime.combine(day + timedelta(days=1 if end else 0), time(), zone)
        else:
            instant = datetime.fromisoformat(value)
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=zone)
        return instant.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"'{field}' must be an ISO 8601 date or date-time, like 2026-11-26T09:00:00Z.",
            field=field,
        ) from None
