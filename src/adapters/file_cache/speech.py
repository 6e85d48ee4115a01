"""`SpeechSynthesizer` that keeps what another synthesises in files, so a restart does
not synthesise the same greeting again.

One file per (namespace, voice, text, audio format), named by a SHA-256 of them,
holding the raw samples; written to a temporary name and renamed, so a reader never
sees half a file. A file that cannot be read or written only costs a synthesis.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path

from application.ports import AudioFormat
from application.ports.speech import SpeechSynthesizer

log = logging.getLogger(__name__)


class FileCachedSpeech:
    def __init__(self, inner: SpeechSynthesizer, directory: Path, *, namespace: str) -> None:
        """`namespace` names what else decides the sound (the provider, its default
        voice), so changing it does not play audio made the old way."""
        self._inner = inner
        self._directory = directory
        self._namespace = namespace

    def path_for(self, text: str, voice: str | None, audio: AudioFormat) -> Path:
        key = "\x00".join(
            (self._namespace, voice or "", text, str(audio.encoding), str(audio.sample_rate_hz))
        )
        return self._directory / f"{hashlib.sha256(key.encode()).hexdigest()}.raw"

    async def synthesise(self, text: str, voice: str | None, audio: AudioFormat) -> bytes:
        path = self.path_for(text, voice, audio)
        kept = await asyncio.to_thread(_read, path)
        if kept:
            return kept
        sound = await self._inner.synthesise(text, voice, audio)
        await asyncio.to_thread(_write, path, sound)
        return sound


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        log.warning("cached speech unreadable (%s): synthesising it again", error.strerror)
        return None


def _write(path: Path, sound: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(sound)
        temporary.replace(path)
    except OSError as error:
        log.warning("synthesised speech not kept on disk: %s", error.strerror)
