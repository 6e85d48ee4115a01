"""`GreetingAudio`: the receptionist's greeting as ready-made audio, so a call can play
it the moment its stream starts instead of waiting for the voice agent to say it.

Synthesised once per (text, voice, audio format) through the `SpeechSynthesizer` port
(which may keep it on disk across restarts) and then held in memory. Concurrent asks
for one greeting share one synthesis. A synthesis that fails or takes longer than
`timeout_s` gives None, and the call falls back to the agent's own greeting; after a
failure no synthesis is tried for `retry_after_s`, so a provider that is down costs
calls nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time

from application.ports import AudioFormat
from application.ports.speech import SpeechSynthesizer, SpeechUnavailable

log = logging.getLogger(__name__)

_Key = tuple[str, str | None, AudioFormat]


class GreetingAudio:
    """One per process: the cache outlives the calls."""

    def __init__(
        self,
        speech: SpeechSynthesizer | None,
        *,
        timeout_s: float = 3.0,
        retry_after_s: float = 60.0,
    ) -> None:
        """`speech` None: no synthesis (every call hears the agent's own greeting)."""
        self._speech = speech
        self._timeout_s = timeout_s
        self._retry_after_s = retry_after_s
        self._ready: dict[_Key, bytes] = {}
        self._pending: dict[_Key, asyncio.Task[bytes | None]] = {}
        self._failed_at: float | None = None

    def ready(self, text: str, voice: str | None, audio: AudioFormat) -> bytes | None:
        """The audio if it is already at hand; never waits."""
        return self._ready.get((text, voice, audio))

    async def get(self, text: str, voice: str | None, audio: AudioFormat) -> bytes | None:
        """The audio, synthesised now if need be; None when it cannot be had in time."""
        key = (text, voice, audio)
        sound = self._ready.get(key)
        if sound is not None or self._speech is None or self._resting():
            return sound
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._synthesise(key), name="greeting-synthesis")
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        # shielded: one caller giving up (cancelled) must not cancel the others' synthesis
        return await asyncio.shield(task)

    def _resting(self) -> bool:
        return (
            self._failed_at is not None and time.monotonic() - self._failed_at < self._retry_after_s
        )

    async def _synthesise(self, key: _Key) -> bytes | None:
        text, voice, audio = key
        assert self._speech is not None
        try:
            async with asyncio.timeout(self._timeout_s):
                sound = await self._speech.synthesise(text, voice, audio)
        except (SpeechUnavailable, TimeoutError) as exc:
            self._failed_at = time.monotonic()
            reason = str(exc) or f"no answer within {self._timeout_s}s"
            log.warning("greeting not synthesised, the agent will say it: %s", reason)
            return None
        if not sound:
            log.warning("greeting synthesis returned no audio, the agent will say it")
            return None
        self._failed_at = None
        self._ready[key] = sound
        return sound
