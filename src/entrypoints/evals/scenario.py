"""A scenario file: a conversation script (see `adapters.scripted.script`) with the
caller's number, appointments that exist before the call (`[[given]]`) and what must
be true after it (`[expect]`). Read strictly: an unknown key, a wrong type, an unknown
service or provider, or a day no one can name is a `ScriptError` naming the key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from adapters.scripted import (
    ConversationScript,
    DayError,
    ScriptError,
    parse_script,
    read_toml,
    resolve_day,
    unknown_keys,
)
from application.receptionist.tool_arguments import ARGUMENT_TYPES
from domain.calls import NextStep
from domain.scheduling import InvalidInput, PhoneNumber, Practice

DEFAULT_CALLER = "+14155550123"
_GIVEN_KEYS = frozenset({"service", "provider", "day", "time", "patient_name"})
_APPOINTMENT_KEYS = frozenset({"service", "provider", "day"})
_EXPECT_KEYS = frozenset({"booked", "cancelled", "next_step", "agent_says", "tools_called"})


@dataclass(frozen=True, slots=True)
class GivenAppointment:
    """Booked (through the REST API's use case) under the caller's number before the call."""

    service: str
    provider: str
    day: str
    time: str
    patient_name: str


@dataclass(frozen=True, slots=True)
class ExpectedAppointment:
    service: str
    provider: str
    day: str
    """A day expression (`next open tuesday`), resolved on the day the scenario runs."""

    def resolved(self, today: date, practice: Practice) -> tuple[str, str, date]:
        return (self.service, self.provider, resolve_day(self.day, today=today, practice=practice))


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectations:
    """Each check runs only when its key is given. `booked` and `cancelled` list every
    appointment in that state after the call (an empty list: none)."""

    booked: tuple[ExpectedAppointment, ...] | None = None
    cancelled: tuple[ExpectedAppointment, ...] | None = None
    next_step: NextStep | None = None
    agent_says: tuple[str, ...] = ()
    """Each is found (case-insensitively) in something the agent said."""
    tools_called: tuple[str, ...] = ()
    """Each was called at least once."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    path: Path
    script: ConversationScript
    caller_phone: str
    given: tuple[GivenAppointment, ...]
    expect: Expectations

    @property
    def name(self) -> str:
        return self.script.name


def load_scenario(path: Path, practice: Practice) -> Scenario:
    raw = read_toml(path)
    where = str(path)
    script = parse_script(raw, where=where, known_tools=frozenset(ARGUMENT_TYPES))
    caller = raw.get("caller_phone", DEFAULT_CALLER)
    try:
        phone = PhoneNumber.parse(str(caller), default_region=practice.default_region).e164
    except InvalidInput:
        raise ScriptError(f"{where}: caller_phone: {caller!r} is not a phone number") from None
    given_raw = raw.get("given", [])
    if not isinstance(given_raw, list):
        raise ScriptError(f"{where}: given: expected [[given]] tables")
    given = tuple(
        _given(item, f"{where}: given[{index}]", practice) for index, item in enumerate(given_raw)
    )
    expect_raw = raw.get("expect")
    if not isinstance(expect_raw, dict) or not expect_raw:
        raise ScriptError(f"{where}: expect: an [expect] table with at least one check is needed")
    expect = _expectations(expect_raw, f"{where}: expect", practice)
    return Scenario(path=path, script=script, caller_phone=phone, given=given, expect=expect)


def scenario_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; directories as their `*.toml` files, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.toml")))
        elif path.exists():
            found.append(path)
        else:
            raise ScriptError(f"{path}: no such file or directory")
    if not found:
        raise ScriptError(f"no scenario files (*.toml) in {', '.join(map(str, paths))}")
    return found


def _given(raw: object, where: str, practice: Practice) -> GivenAppointment:
    table = _table(raw, where)
    unknown_keys(table, _GIVEN_KEYS, where)
    values = {key: _text(table, key, where) for key in sorted(_GIVEN_KEYS)}
    given = GivenAppointment(**values)
    _check_names(given.service, given.provider, where, practice)
    _check_day(given.day, f"{where}.day", practice)
    return given


def _expectations(raw: Mapping[str, Any], where: str, practice: Practice) -> Expectations:
    unknown_keys(raw, _EXPECT_KEYS, where)
    step = raw.get("next_step")
    if step is not None and step not in {s.value for s in NextStep}:
        raise ScriptError(
            f"{where}.next_step: {step!r} is not one of {sorted(s.value for s in NextStep)}"
        )
    tools = _strings(raw, "tools_called", where)
    unknown_tools = sorted(set(tools) - set(ARGUMENT_TYPES))
    if unknown_tools:
        raise ScriptError(f"{where}.tools_called: no tool {unknown_tools[0]!r}")
    return Expectations(
        booked=_appointments(raw, "booked", where, practice),
        cancelled=_appointments(raw, "cancelled", where, practice),
        next_step=NextStep(step) if step is not None else None,
        agent_says=_strings(raw, "agent_says", where),
        tools_called=tools,
    )


def _appointments(
    raw: Mapping[str, Any], key: str, where: str, practice: Practice
) -> tuple[ExpectedAppointment, ...] | None:
    items = raw.get(key)
    if items is None:
        return None
    if not isinstance(items, list):
        raise ScriptError(f"{where}.{key}: expected a list of {{service, provider, day}} tables")
    expected = []
    for index, item in enumerate(items):
        at = f"{where}.{key}[{index}]"
        table = _table(item, at)
        unknown_keys(table, _APPOINTMENT_KEYS, at)
        appointment = ExpectedAppointment(
            _text(table, "service", at), _text(table, "provider", at), _text(table, "day", at)
        )
        _check_names(appointment.service, appointment.provider, at, practice)
        _check_day(appointment.day, f"{at}.day", practice)
        expected.append(appointment)
    return tuple(expected)


def _check_names(service: str, provider: str, where: str, practice: Practice) -> None:
    if service not in practice.services:
        raise ScriptError(
            f"{where}.service: no service {service!r}; known: {sorted(practice.services)}"
        )
    if provider not in practice.providers:
        raise ScriptError(
            f"{where}.provider: no provider {provider!r}; known: {sorted(practice.providers)}"
        )


def _check_day(expression: str, where: str, practice: Practice) -> None:
    try:
        resolve_day(expression, today=date(2000, 1, 1), practice=practice)
    except DayError as error:
        raise ScriptError(f"{where}: {error}") from None


def _table(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: expected a table")
    return raw


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}.{key}: expected a non-empty string")
    return value


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ScriptError(f"{where}.{key}: expected a list of strings")
    return tuple(value)
