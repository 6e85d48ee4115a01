"""Open slots are computed from hours, closures, bookings, the past and the horizon."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.scheduling import (
    BeyondHorizon,
    Busy,
    InvalidInput,
    OpenInterval,
    Practice,
    Provider,
    Service,
    ServiceNotOffered,
    ShortNotice,
    SlotInPast,
    SlotNotOffered,
    UnknownProvider,
    UnknownService,
    Weekday,
    offered_slot,
    open_slots,
    parse_slot_id,
    slot_id,
)

NEW_YORK = ZoneInfo("America/New_York")


def every_day(opens: time, closes: time) -> dict[Weekday, tuple[OpenInterval, ...]]:
    return {day: (OpenInterval(opens, closes),) for day in Weekday}


def practice(**overrides: object) -> Practice:
    values: dict[str, object] = {
        "name": "Test Dental",
        "time_zone": NEW_YORK,
        "hours": every_day(time(9), time(12)),
        "services": {
            "checkup": Service("checkup", "Checkup", timedelta(minutes=30)),
            "cleaning": Service("cleaning", "Cleaning", timedelta(minutes=60)),
        },
        "providers": {
            "dr-lee": Provider("dr-lee", "Dr. Lee", "Dentist", frozenset({"checkup"})),
            "sam": Provider("sam", "Sam", "Hygienist", frozenset({"checkup", "cleaning"})),
        },
        "slot_step": timedelta(minutes=30),
        "booking_horizon": timedelta(days=30),
    }
    values.update(overrides)
    return Practice(**values)  # type: ignore[arg-type]


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


MONDAY = date(2026, 11, 30)
NOW = ny(MONDAY, 7)


def slots(p: Practice, service: str = "checkup", provider: str | None = "dr-lee", **kw: object):
    args: dict[str, object] = {
        "service_id": service,
        "provider_id": provider,
        "start": NOW,
        "end": NOW + timedelta(days=1),
        "now": NOW,
        "busy": [],
        "limit": 100,
    }
    args.update(kw)
    return open_slots(p, **args)  # type: ignore[arg-type]


def test_slots_follow_opening_hours_on_the_grid() -> None:
    found = slots(practice(), end=ny(MONDAY, 23))
    assert [s.start for s in found] == [ny(MONDAY, h, m) for h in (9, 10, 11) for m in (0, 30)]
    assert all(s.end - s.start == timedelta(minutes=30) for s in found)


def test_a_slot_must_end_by_closing_time() -> None:
    found = slots(practice(), service="cleaning", provider="sam", end=ny(MONDAY, 23))
    assert found[-1].start == ny(MONDAY, 11)
    assert found[-1].end == ny(MONDAY, 12)


def test_booked_time_is_not_open() -> None:
    busy = [Busy("dr-lee", ny(MONDAY, 9, 30), ny(MONDAY, 10, 30))]
    found = slots(practice(), busy=busy, end=ny(MONDAY, 23))
    assert [s.start for s in found] == [
        ny(MONDAY, 9),
        ny(MONDAY, 10, 30),
        ny(MONDAY, 11),
        ny(MONDAY, 11, 30),
    ]


def test_another_providers_booking_does_not_block_a_slot() -> None:
    busy = [Busy("sam", ny(MONDAY, 9), ny(MONDAY, 12))]
    assert len(slots(practice(), busy=busy, end=ny(MONDAY, 23))) == 6


def test_the_past_is_not_open() -> None:
    now = ny(MONDAY, 10, 10)
    found = slots(practice(), now=now, start=ny(MONDAY, 0), end=ny(MONDAY, 23))
    assert [s.start for s in found] == [ny(MONDAY, 10, 30), ny(MONDAY, 11), ny(MONDAY, 11, 30)]


def test_closures_have_no_slots() -> None:
    found = slots(practice(closures=frozenset({MONDAY})), end=ny(MONDAY, 23))
    assert found == []


def test_slots_stop_at_the_booking_horizon() -> None:
    p = practice(booking_horizon=timedelta(days=2))
    found = slots(p, end=NOW + timedelta(days=10))
    assert max(s.start for s in found) < NOW + timedelta(days=2)
    assert min(s.start for s in found).date() == MONDAY


def test_a_providers_own_hours_narrow_the_practices() -> None:
    own = {Weekday.MONDAY: (OpenInterval(time(10), time(18)),)}
    p = practice(
        providers={"dr-lee": Provider("dr-lee", "Dr. Lee", "Dentist", frozenset({"checkup"}), own)}
    )
    found = slots(p, end=NOW + timedelta(days=2))
    assert [s.start for s in found] == [ny(MONDAY, h, m) for h in (10, 11) for m in (0, 30)]


def test_without_a_provider_every_provider_offering_the_service_is_listed() -> None:
    found = slots(practice(), provider=None, end=ny(MONDAY, 10))
    assert [(s.provider_id, s.start) for s in found] == [
        ("dr-lee", ny(MONDAY, 9)),
        ("sam", ny(MONDAY, 9)),
        ("dr-lee", ny(MONDAY, 9, 30)),
        ("sam", ny(MONDAY, 9, 30)),
    ]


def test_limit_caps_the_result() -> None:
    assert len(slots(practice(), end=NOW + timedelta(days=5), limit=3)) == 3


@pytest.mark.parametrize(
    "window",
    [
        (time(10), time(11)),
        (time(10, 10), time(11, 40)),  # off the grid: the first start rounds up
        (time(0), time(9)),  # nothing: before opening
        (time(11, 30), time(23, 59)),
    ],
)
def test_a_window_of_local_times_keeps_the_slots_starting_in_it(window: tuple[time, time]) -> None:
    p = practice(hours=every_day(time(9), time(12)))
    end = NOW + timedelta(days=5)
    everything = slots(p, provider=None, end=end, limit=1000)
    inside = [s for s in everything if window[0] <= s.start.astimezone(NEW_YORK).time() < window[1]]
    assert slots(p, provider=None, end=end, limit=1000, local_times=window) == inside
    assert slots(p, provider=None, end=end, limit=3, local_times=window) == inside[:3]


def test_a_window_of_local_times_holds_across_the_spring_clock_change() -> None:
    sunday = date(2027, 3, 14)  # NY springs forward at 02:00
    p = practice(hours=every_day(time(1), time(4)), booking_horizon=timedelta(days=300))
    now = ny(sunday, 0)
    found = slots(
        p, now=now, start=now, end=now + timedelta(hours=6), local_times=(time(1, 30), time(3, 30))
    )
    assert [s.start.astimezone(NEW_YORK).time() for s in found] == [time(1, 30), time(3)]


def test_local_opening_time_keeps_across_the_autumn_clock_change() -> None:
    before, after = date(2026, 10, 26), date(2026, 11, 2)  # NY falls back on 2026-11-01
    now = ny(before, 6)
    found = slots(practice(), now=now, start=now, end=ny(after, 23))
    first_of = {
        d: min(s.start for s in found if s.start.astimezone(NEW_YORK).date() == d)
        for d in (before, after)
    }
    assert first_of[before] == datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert first_of[after] == datetime(2026, 11, 2, 14, tzinfo=UTC)


def test_wall_clock_times_skipped_by_the_spring_change_are_not_offered() -> None:
    sunday = date(2027, 3, 14)  # NY springs forward at 02:00
    p = practice(hours=every_day(time(1), time(4)), booking_horizon=timedelta(days=300))
    now = ny(sunday, 0)
    found = slots(p, now=now, start=now, end=now + timedelta(hours=6))
    local = [s.start.astimezone(NEW_YORK).time() for s in found]
    assert local == [time(1), time(1, 30), time(3), time(3, 30)]
    assert len({s.id for s in found}) == len(found)


def test_slot_ids_are_readable_and_round_trip() -> None:
    start = ny(MONDAY, 9)
    assert slot_id("dr-lee", start) == "dr-lee@2026-11-30T14:00Z"
    assert parse_slot_id("dr-lee@2026-11-30T14:00Z") == ("dr-lee", start)


@pytest.mark.parametrize(
    "bad", ["", "dr-lee", "@2026-11-30T14:00Z", "dr-lee@tomorrow", "dr-lee@2026-13-01T14:00Z"]
)
def test_malformed_slot_ids_are_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_slot_id(bad)
    assert exc.value.field == "slot_id"


def test_an_offered_slot_is_found_by_its_id() -> None:
    slot = offered_slot(
        practice(), slot_id_value="dr-lee@2026-11-30T14:30Z", service_id="checkup", now=NOW
    )
    assert (slot.start, slot.end) == (ny(MONDAY, 9, 30), ny(MONDAY, 10))


@pytest.mark.parametrize(
    ("slot", "service", "error"),
    [
        ("dr-lee@2026-11-30T14:10Z", "checkup", SlotNotOffered),  # off the grid
        ("dr-lee@2026-11-30T20:00Z", "checkup", SlotNotOffered),  # after closing
        ("dr-lee@2026-11-30T11:00Z", "checkup", SlotInPast),
        ("dr-lee@2027-02-01T14:00Z", "checkup", BeyondHorizon),
        ("dr-lee@2026-11-30T14:00Z", "cleaning", ServiceNotOffered),
        ("dr-who@2026-11-30T14:00Z", "checkup", UnknownProvider),
        ("dr-lee@2026-11-30T14:00Z", "whitening", UnknownService),
    ],
)
def test_slots_off_the_rules_are_refused(slot: str, service: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        offered_slot(practice(), slot_id_value=slot, service_id=service, now=NOW)


def test_slots_sooner_than_the_minimum_notice_are_not_offered() -> None:
    p = practice(min_notice=timedelta(hours=2))
    found = slots(p, now=ny(MONDAY, 8, 10), start=ny(MONDAY, 0), end=ny(MONDAY, 23))
    assert [s.start for s in found] == [ny(MONDAY, 10, 30), ny(MONDAY, 11), ny(MONDAY, 11, 30)]


def test_a_slot_exactly_the_minimum_notice_away_is_offered_and_bookable() -> None:
    p = practice(min_notice=timedelta(hours=2))
    now = ny(MONDAY, 8)
    assert slots(p, now=now, start=ny(MONDAY, 0), end=ny(MONDAY, 23))[0].start == ny(MONDAY, 10)
    slot = offered_slot(p, slot_id_value="dr-lee@2026-11-30T15:00Z", service_id="checkup", now=now)
    assert slot.start == ny(MONDAY, 10)


def test_booking_sooner_than_the_minimum_notice_is_refused_saying_how_much_is_needed() -> None:
    p = practice(min_notice=timedelta(hours=3))
    with pytest.raises(ShortNotice) as refused:  # 09:30, two and a half hours from NOW
        offered_slot(p, slot_id_value="dr-lee@2026-11-30T14:30Z", service_id="checkup", now=NOW)
    assert refused.value.code == "short_notice"
    assert "3 hours" in refused.value.message


def test_without_a_minimum_notice_the_next_future_slot_is_bookable() -> None:
    slot = offered_slot(
        practice(), slot_id_value="dr-lee@2026-11-30T14:00Z", service_id="checkup", now=NOW
    )
    assert slot.start == ny(MONDAY, 9)


def test_a_negative_minimum_notice_is_refused() -> None:
    with pytest.raises(ValueError, match="min_notice"):
        practice(min_notice=timedelta(hours=-1))
