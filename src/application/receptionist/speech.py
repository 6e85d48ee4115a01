"""How times and dates are said to a caller, in the practice's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def say_time(moment: datetime, zone: ZoneInfo) -> str:
    """`Monday, November 30 at 9:30 AM` — what a receptionist would read out."""
    local = moment.astimezone(zone)
    hour = local.strftime("%I").lstrip("0")
    minute = "" if local.minute == 0 else local.strftime(":%M")
    return f"{local.strftime('%A, %B')} {local.day} at {hour}{minute} {local.strftime('%p')}"


def say_date(day: date) -> str:
    return f"{day.strftime('%A, %B')} {day.day}, {day.year}"
