"""A small practice built in code, for API tests that should not depend on the sample file."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from domain.scheduling import OpenInterval, Practice, Provider, Service, Weekday

NINE_TO_FIVE = (OpenInterval(time(9), time(12)), OpenInterval(time(13), time(17)))


def api_practice() -> Practice:
    """Mon-Fri 09-12 and 13-17 New York time; Dr Lee cleans and checks, Dr Patel checks."""
    services = {
        "cleaning": Service("cleaning", "Cleaning", timedelta(minutes=60)),
        "checkup": Service("checkup", "Checkup", timedelta(minutes=30)),
    }
    providers = {
        "dr-lee": Provider("dr-lee", "Dr. Lee", "Dentist", frozenset({"cleaning", "checkup"})),
        "dr-patel": Provider("dr-patel", "Dr. Patel", "Hygienist", frozenset({"checkup"})),
    }
    return Practice(
        name="Test Dental",
        time_zone=ZoneInfo("America/New_York"),
        hours={day: NINE_TO_FIVE for day in Weekday if day < Weekday.SATURDAY},
        services=services,
        providers=providers,
        closures=frozenset({date(2030, 12, 25)}),
        booking_horizon=timedelta(days=60),
    )
