"""Port for speech synthesised ahead of a call: text in, audio in a leg's format out."""

from __future__ import annotations

from typing import Protocol

from application.ports.voice import AudioFormat


class SpeechSynthesizer(Protocol):
    async def synthesise(self, text: str, voice: str | None, audio: AudioFormat) -> bytes:
        """`text` spoken in `voice` (the provider's name; None for its default) as raw
        samples in `audio`. Raises `SpeechUnavailable` when it cannot."""
        ...


class SpeechUnavailable(Exception):
    """Speech could not be synthesised (unreachable, refused, or not configured)."""
