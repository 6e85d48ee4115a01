"""Days and slots named relative to today, so a script or a scenario works any day.

`today`, `tomorrow`, `next monday` (the first Monday after today), `next open monday`
(the first Monday after today that is not one of the practice's closures), or an ISO
date (`2027-03-02`). A slot is `slot <provider> <day> <HH:MM>`: the provider's slot id
at that wall-clock time, in the practice's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from domain.scheduling import Practice, Weekday, slot_id

_WEEKDAYS = {day.name.lower(): day.value for day in Weekday}


class DayError(ValueError):
    """An expression that names no day; the message quotes it and lists the forms."""


FORMS = "today, tomorrow, next <weekday>, next open <weekday>, or YYYY-MM-DD"


def resolve_day(expression: str, *, today: date, practice: Practice) -> date:
    words = expression.lower().split()
    match words:
        case ["today"]:
            return today
        case ["tomorrow"]:
            return today + timedelta(days=1)
        case ["next", weekday] if weekday in _WEEKDAYS:
            return _next_weekday(today, _WEEKDAYS[weekday])
        case ["next", "open", weekday] if weekday in _WEEKDAYS:
            day = _next_weekday(today, _WEEKDAYS[weekday])
            while day in practice.closures:
                day += timedelta(days=7)
            return day
    try:
        return date.fromisoformat(expression.strip())
    except ValueError:
        raise DayError(f"{expression!r} is not a day: use {FORMS}") from None


def resolve_slot(expression: str, *, today: date, practice: Practice) -> str:
    """`<provider> <day...> <HH:MM>` (the words after `slot`) as a slot id."""
    words = expression.split()
    if len(words) < 3:
        raise DayError(f"slot {expression!r}: use slot <provider> <day> <HH:MM>")
    provider, clock = words[0], words[-1]
    day = resolve_day(" ".join(words[1:-1]), today=today, practice=practice)
    try:
        at = time.fromisoformat(clock)
    except ValueError:
        raise DayError(f"slot {expression!r}: {clock!r} is not a time (HH:MM)") from None
    return slot_id(provider, datetime.combine(day, at, tzinfo=practice.time_zone))


def _next_weekday(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday() - 1) % 7 + 1
    return today + timedelta(days=ahead)
