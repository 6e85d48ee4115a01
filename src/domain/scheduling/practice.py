"""The practice: opening hours, closures, providers and the services they offer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

from domain.scheduling.errors import ServiceNotOffered, UnknownProvider, UnknownService


class Weekday(IntEnum):
    """ISO-ordered weekday, matching `date.weekday()`."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@dataclass(frozen=True, slots=True)
class OpenInterval:
    """Wall-clock opening time on one day, `opens` < `closes`, in the practice's zone."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(f"opening time {self.opens} is not before closing time {self.closes}")

    def intersect(self, other: OpenInterval) -> OpenInterval | None:
        opens, closes = max(self.opens, other.opens), min(self.closes, other.closes)
        return OpenInterval(opens, closes) if opens < closes else None


WeeklyHours = Mapping[Weekday, tuple[OpenInterval, ...]]


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name: str
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    title: str
    service_ids: frozenset[str]
    hours: WeeklyHours | None = None
    """The provider's own hours, further limiting the practice's; None means all of them."""


@dataclass(frozen=True, slots=True)
class Receptionist:
    """How the practice's phone receptionist speaks, in no provider's terms.

    `voice` is the agent provider's name for a voice (passed through as it is);
    `language` a BCP 47 code. `provider_options` holds each agent provider's own
    settings by provider name, checked by that provider's adapter, not here.
    """

    greeting: str | None = None
    instructions: str | None = None
    voice: str | None = None
    language: str = "en"
    provider_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextPolicy:
    """`[sms]` in the practice file: whether patients get texts at all (when the server
    can send them), and how long before an appointment its reminder goes (None: no
    reminders)."""

    enabled: bool = True
    reminder_before: timedelta | None = None

    def __post_init__(self) -> None:
        if self.reminder_before is not None and self.reminder_before <= timedelta(0):
            raise ValueError("a reminder must go before the appointment")


@dataclass(frozen=True, slots=True)
class Practice:
    """Everything about a practice that decides which slots exist.

    Built once from the practice file; immutable while the server runs.
    """

    name: str
    time_zone: ZoneInfo
    hours: WeeklyHours
    services: Mapping[str, Service]
    providers: Mapping[str, Provider]
    closures: frozenset[date] = frozenset()
    booking_horizon: timedelta = timedelta(days=60)
    min_notice: timedelta = timedelta(0)
    """The shortest time between now and a slot's start at which it may still be booked
    (the front desk needs time to prepare). The practice file defaults it to 2 hours;
    a practice built in code has none unless it says so."""
    slot_step: timedelta = timedelta(minutes=15)
    front_desk_phone: str | None = None
    default_region: str = "US"
    receptionist: Receptionist = field(default_factory=Receptionist)
    texts: TextPolicy = field(default_factory=TextPolicy)

    def __post_init__(self) -> None:
        if self.min_notice < timedelta(0):
            raise ValueError("min_notice must not be negative")
        for provider in self.providers.values():
            unknown = provider.service_ids - self.services.keys()
            if unknown:
                raise ValueError(
                    f"provider {provider.id!r} offers unknown services {sorted(unknown)}"
                )

    def provider(self, provider_id: str) -> Provider:
        try:
            return self.providers[provider_id]
        except KeyError:
            raise UnknownProvider(f"We have no provider called {provider_id!r}.") from None

    def service(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise UnknownService(f"We don't offer a service called {service_id!r}.") from None

    def check_offers(self, provider_id: str, service_id: str) -> tuple[Provider, Service]:
        provider, service = self.provider(provider_id), self.service(service_id)
        if service_id not in provider.service_ids:
            raise ServiceNotOffered(f"{provider.name} doesn't offer {service.name.lower()}.")
        return provider, service

    def providers_for(self, service_id: str) -> list[Provider]:
        self.service(service_id)
        return [p for p in self.providers.values() if service_id in p.service_ids]

    def open_intervals(self, provider: Provider, day: date) -> tuple[OpenInterval, ...]:
        """Wall-clock intervals in which `provider` sees patients on `day`."""
        if day in self.closures:
            return ()
        weekday = Weekday(day.weekday())
        practice_hours = self.hours.get(weekday, ())
        if provider.hours is None:
            return tuple(practice_hours)
        own = provider.hours.get(weekday, ())
        return tuple(
            common for a in practice_hours for b in own if (common := a.intersect(b)) is not None
        )
