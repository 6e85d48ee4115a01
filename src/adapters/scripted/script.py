"""A conversation script: what the caller says, which tools the agent calls with which
arguments, and what the agent answers, turn by turn. Read from TOML, strictly: an
unknown key or a wrong type is a `ScriptError` naming it.

A turn runs in order: the caller's line, then each tool (its result kept for the
lines and arguments after it), then the agent's line. Arguments and agent lines may
hold `{{ ... }}` placeholders (see `template`). The last turn must end the call
(`end_call` or `transfer_to_human`), so a scripted call never hangs on.

A scenario file (`frontdesk eval`) is a script with more top-level tables
(`caller_phone`, `given`, `expect`); the script reads past them and the evaluation
checks them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENDING_TOOLS = frozenset({"end_call", "transfer_to_human"})
SCENARIO_KEYS = frozenset({"caller_phone", "given", "expect"})
"""Top-level keys the script leaves to the scenario reader."""
_TOP_KEYS = frozenset({"name", "description", "turn"}) | SCENARIO_KEYS
_TURN_KEYS = frozenset({"caller", "tools", "agent"})
_TOOL_KEYS = frozenset({"name", "arguments"})


class ScriptError(ValueError):
    """The script cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class ScriptedTool:
    name: str
    arguments: Mapping[str, Any]
    """Values may be strings with `{{ ... }}` placeholders, filled in when it runs."""


@dataclass(frozen=True, slots=True)
class ScriptTurn:
    caller: str | None
    tools: tuple[ScriptedTool, ...]
    agent: str | None


@dataclass(frozen=True, slots=True)
class ConversationScript:
    name: str
    description: str
    turns: tuple[ScriptTurn, ...]

    @property
    def caller_lines(self) -> tuple[str, ...]:
        return tuple(turn.caller for turn in self.turns if turn.caller)


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, or `ScriptError` naming the file and what is wrong."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ScriptError(f"{path}: cannot read it: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ScriptError(f"{path}: not valid TOML: {error}") from None


def load_script(path: Path, known_tools: frozenset[str]) -> ConversationScript:
    return parse_script(read_toml(path), where=str(path), known_tools=known_tools)


def parse_script(
    raw: Mapping[str, Any], *, where: str, known_tools: frozenset[str]
) -> ConversationScript:
    unknown_keys(raw, _TOP_KEYS, where)
    name = _text(raw, "name", where, required=True) or ""
    description = _text(raw, "description", where) or ""
    turns_raw = raw.get("turn")
    if not isinstance(turns_raw, list) or not turns_raw:
        raise ScriptError(f"{where}: turn: at least one [[turn]] is needed")
    turns = tuple(
        _turn(item, f"{where}: turn[{index}]", known_tools) for index, item in enumerate(turns_raw)
    )
    last = turns[-1].tools
    if not last or last[-1].name not in ENDING_TOOLS:
        raise ScriptError(
            f"{where}: turn[{len(turns) - 1}].tools: the last turn's last tool must be "
            f"one of {sorted(ENDING_TOOLS)}, so the call ends"
        )
    return ConversationScript(name=name, description=description, turns=turns)


def unknown_keys(raw: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    extra = sorted(set(raw) - known)
    if extra:
        raise ScriptError(f"{where}: unknown key {extra[0]!r}; known keys: {sorted(known)}")


def _turn(raw: object, where: str, known_tools: frozenset[str]) -> ScriptTurn:
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: expected a table")
    unknown_keys(raw, _TURN_KEYS, where)
    tools_raw = raw.get("tools", [])
    if not isinstance(tools_raw, list):
        raise ScriptError(f"{where}.tools: expected a list of tables")
    tools = tuple(
        _tool(item, f"{where}.tools[{index}]", known_tools) for index, item in enumerate(tools_raw)
    )
    turn = ScriptTurn(_text(raw, "caller", where), tools, _text(raw, "agent", where))
    if turn.caller is None and not tools and turn.agent is None:
        raise ScriptError(f"{where}: an empty turn (give caller, tools or agent)")
    return turn


def _tool(raw: object, where: str, known_tools: frozenset[str]) -> ScriptedTool:
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: expected a table")
    unknown_keys(raw, _TOOL_KEYS, where)
    name = _text(raw, "name", where, required=True) or ""
    if name not in known_tools:
        raise ScriptError(f"{where}.name: no tool {name!r}; known tools: {sorted(known_tools)}")
    arguments = raw.get("arguments", {})
    if not isinstance(arguments, dict):
        raise ScriptError(f"{where}.arguments: expected a table")
    return ScriptedTool(name, arguments)


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise ScriptError(f"{where}: {key}: missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}: {key}: expected a non-empty string")
    return value
