"""Deepgram's own settings for the receptionist: the models it listens, thinks and speaks
with. Defaults come from the server's settings; a practice file's `[receptionist.deepgram]`
table overrides them, and any key this module does not know is an error naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Final

SECTION: Final = "receptionist.deepgram"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeepgramOptions:
    listen_model: str = "flux-general-en"
    """Speech-to-text; a `flux-*` model also decides when the caller's turn ends."""
    think_provider: str = "open_ai"
    think_model: str = "gpt-4o-mini"
    speak_model: str = "aura-2-thalia-en"
    """The voice, unless the practice file's `[receptionist] voice` names one."""

    def overridden_by(self, section: Mapping[str, object]) -> DeepgramOptions:
        """These options with `section`'s values; `ValueError` for an unknown key or a
        value that is not a non-empty string."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"[{SECTION}]: unknown keys {unknown}; known keys are {sorted(known)}")
        for key, value in section.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"[{SECTION}] {key}: must be a non-empty string")
        return replace(self, **{k: str(v) for k, v in section.items()})
