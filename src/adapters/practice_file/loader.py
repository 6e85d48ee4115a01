"""The practice file: TOML in, a validated `domain.scheduling.Practice` out.

Every problem is reported with the key it concerns (`providers[1].services: ...`),
so an operator can fix the file without reading code.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.scheduling import (
    OpenInterval,
    Practice,
    Provider,
    Receptionist,
    Service,
    TextPolicy,
    Weekday,
)

_ID = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class PracticeFileError(Exception):
    """The practice file is missing, not TOML, or breaks a rule; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Hours(_Strict):
    monday: list[str] = []
    tuesday: list[str] = []
    wednesday: list[str] = []
    thursday: list[str] = []
    friday: list[str] = []
    saturday: list[str] = []
    sunday: list[str] = []

    @field_validator("*")
    @classmethod
    def _intervals(cls, value: list[str]) -> list[str]:
        parsed = [_parse_interval(v) for v in value]
        ordered = sorted(parsed, key=lambda i: i.opens)
        for earlier, later in pairwise(ordered):
            if later.opens < earlier.closes:
                raise ValueError(f"intervals {earlier} and {later} overlap")
        return value

    def to_domain(self) -> dict[Weekday, tuple[OpenInterval, ...]]:
        return {
            day: tuple(_parse_interval(v) for v in getattr(self, day.name.lower()))
            for day in Weekday
            if getattr(self, day.name.lower())
        }


class _PracticeSection(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    time_zone: str
    front_desk_phone: str | None = None
    default_region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "US"
    booking_horizon_days: int = Field(default=60, ge=1, le=730)
    min_notice_hours: int = Field(default=2, ge=0, le=720)
    slot_minutes: int = Field(default=15, ge=5, le=240)
    closures: list[date] = []
    hours: _Hours

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("front_desk_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            raise ValueError("must be a phone number in E.164, e.g. +12125550142") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError("is not a valid phone number")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class _ServiceEntry(_Strict):
    id: _ID
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    duration_minutes: int = Field(ge=5, le=480)


class _ProviderEntry(_Strict):
    id: _ID
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    services: list[_ID] = Field(min_length=1)
    hours: _Hours | None = None


class _ReceptionistSection(_Strict):
    """`[receptionist]`: neutral keys, plus one sub-table per agent provider
    (`[receptionist.deepgram]`) that this loader keeps as it is for that provider's
    adapter to check. Any other key is an error."""

    greeting: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    instructions: Annotated[str, StringConstraints(min_length=1, max_length=4000)] | None = None
    voice: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    providers: dict[_ID, dict[str, Any]] = {}

    @model_validator(mode="before")
    @classmethod
    def _provider_tables(cls, value: object) -> object:
        """Sub-tables are provider sections; a scalar key not declared above stays
        where it is, so it is refused as an extra key."""
        if not isinstance(value, dict) or "providers" in value:
            return value
        tables = {k: v for k, v in value.items() if isinstance(v, dict)}
        rest = {k: v for k, v in value.items() if not isinstance(v, dict)}
        return {**rest, "providers": tables}


class _SmsSection(_Strict):
    """`[sms]`: texts to patients. `enabled = false` sends none even when the server has
    a sender number; `reminder_hours` (1 to 336) sends a reminder that many hours before
    each appointment (none when absent)."""

    enabled: StrictBool = True
    reminder_hours: StrictInt | None = Field(default=None, ge=1, le=336)


class _PracticeFile(_Strict):
    practice: _PracticeSection
    services: list[_ServiceEntry] = Field(min_length=1)
    providers: list[_ProviderEntry] = Field(min_length=1)
    receptionist: _ReceptionistSection = _ReceptionistSection()
    sms: _SmsSection = _SmsSection()


def _parse_interval(value: str) -> OpenInterval:
    match = _INTERVAL.match(value)
    if not match:
        raise ValueError(f"{value!r} is not an interval like '08:00-12:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        return OpenInterval(time(h1, m1), time(h2, m2))
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_practice(path: Path, default_region: str | None = None) -> Practice:
    """Read and validate the practice file; raises `PracticeFileError` naming the key."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PracticeFileError(f"practice file {path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PracticeFileError(f"practice file {path}: not valid TOML ({exc})") from None
    try:
        spec = _PracticeFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise PracticeFileError(f"practice file {path}: {problems}") from None
    return _to_domain(spec, path, default_region)


def _to_domain(spec: _PracticeFile, path: Path, default_region: str | None) -> Practice:
    def fail(where: str, problem: str) -> PracticeFileError:
        return PracticeFileError(f"practice file {path}: {where}: {problem}")

    services: dict[str, Service] = {}
    for i, s in enumerate(spec.services):
        if s.id in services:
            raise fail(f"services[{i}].id", f"duplicate service id {s.id!r}")
        services[s.id] = Service(s.id, s.name, timedelta(minutes=s.duration_minutes))
    providers: dict[str, Provider] = {}
    for i, p in enumerate(spec.providers):
        if p.id in providers:
            raise fail(f"providers[{i}].id", f"duplicate provider id {p.id!r}")
        unknown = sorted(set(p.services) - services.keys())
        if unknown:
            raise fail(f"providers[{i}].services", f"unknown service ids {unknown}")
        providers[p.id] = Provider(
            id=p.id,
            name=p.name,
            title=p.title,
            service_ids=frozenset(p.services),
            hours=p.hours.to_domain() if p.hours is not None else None,
        )
    section = spec.practice
    if not section.hours.to_domain():
        raise fail("practice.hours", "the practice is never open")
    return Practice(
        name=section.name,
        time_zone=ZoneInfo(section.time_zone),
        hours=section.hours.to_domain(),
        services=services,
        providers=providers,
        closures=frozenset(section.closures),
        booking_horizon=timedelta(days=section.booking_horizon_days),
        min_notice=timedelta(hours=section.min_notice_hours),
        slot_step=timedelta(minutes=section.slot_minutes),
        front_desk_phone=section.front_desk_phone,
        default_region=default_region or section.default_region,
        receptionist=Receptionist(
            greeting=spec.receptionist.greeting,
            instructions=spec.receptionist.instructions,
            voice=spec.receptionist.voice,
            language=spec.receptionist.language,
            provider_options=spec.receptionist.providers,
        ),
        texts=TextPolicy(
            enabled=spec.sms.enabled,
            reminder_before=(
                timedelta(hours=spec.sms.reminder_hours) if spec.sms.reminder_hours else None
            ),
        ),
    )
