"""The scripted voice agent: plays a conversation from a TOML script (no provider)."""

from adapters.scripted.agent import LABEL, ScriptedVoiceAgent
from adapters.scripted.days import DayError, resolve_day, resolve_slot
from adapters.scripted.script import (
    ConversationScript,
    ScriptError,
    load_script,
    parse_script,
    read_toml,
    unknown_keys,
)

__all__ = [
    "LABEL",
    "ConversationScript",
    "DayError",
    "ScriptError",
    "ScriptedVoiceAgent",
    "load_script",
    "parse_script",
    "read_toml",
    "resolve_day",
    "resolve_slot",
    "unknown_keys",
]
