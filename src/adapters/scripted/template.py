"""`{{ ... }}` placeholders in a script's tool arguments and agent lines.

- `{{ next open tuesday }}` (any day `days` knows): the ISO date, `2026-12-08`;
- `{{ slot dr-lee next sunday 10:00 }}`: that slot's id;
- `{{ check_available_slots.slots.0.slot_id }}`: a value from the latest result of that
  tool in this call (keys and list indexes, dot-separated).

A string that is one placeholder becomes the value itself (a number stays a number);
placeholders inside longer text are replaced by their text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from adapters.scripted.days import DayError, resolve_day, resolve_slot
from domain.scheduling import Practice

_PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")


class TemplateError(ValueError):
    """A placeholder that cannot be filled; the message quotes it."""


class Placeholders:
    """Fills placeholders from the day, the practice and the tool results so far."""

    def __init__(self, *, today: date, practice: Practice) -> None:
        self._today, self._practice = today, practice
        self.results: dict[str, Any] = {}
        """The latest result of each tool, by tool name (decoded JSON)."""

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._fill_text(value)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value

    def _fill_text(self, text: str) -> Any:
        whole = _PLACEHOLDER.fullmatch(text.strip())
        if whole:
            return self._value(whole.group(1))
        return _PLACEHOLDER.sub(lambda match: str(self._value(match.group(1))), text)

    def _value(self, expression: str) -> Any:
        try:
            if expression.startswith("slot "):
                return resolve_slot(expression[5:], today=self._today, practice=self._practice)
            head, dot, path = expression.partition(".")
            if dot and head in self.results:
                return _walk(self.results[head], path, expression)
            if dot:
                raise TemplateError(
                    f"{{{{ {expression} }}}}: no result of {head!r} yet in this call"
                )
            return resolve_day(expression, today=self._today, practice=self._practice).isoformat()
        except DayError as error:
            raise TemplateError(f"{{{{ {expression} }}}}: {error}") from None


def _walk(value: Any, path: str, expression: str) -> Any:
    for step in path.split("."):
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            raise TemplateError(f"{{{{ {expression} }}}}: the result has no {step!r} there")
    return value
