"""`VoiceAgent` that plays a `ConversationScript`: a receptionist anyone can hear work
with no account anywhere, and a fixed conversation to test a practice with.

Nothing is recognised or generated. The caller's lines are reported as if heard, the
agent's lines as transcripts (with a short tone as their audio), and the tools are
requested by name with the script's arguments; the session runs them for real and the
results come back through `send_tool_result`, ready for the next placeholders. Every
line it reports starts with `LABEL`, so the call record and the live feed say it was
scripted.

Pacing follows the caller's audio, which a leg sends in real time: after each line,
the agent waits until the caller has sent as much audio as the line's tone plus
`pause_s`. A caller that sends no audio holds the script where it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator
from typing import Final

from adapters.scripted.script import ConversationScript
from adapters.scripted.template import Placeholders, TemplateError
from adapters.scripted.tone import tone
from application.ports import (
    AgentAudio,
    AgentAudioDone,
    AgentEvent,
    AgentFailed,
    AgentProfile,
    AgentReady,
    AgentStartedSpeaking,
    AgentUnavailable,
    AudioFormat,
    Clock,
    ToolCallRequested,
    Transcript,
)
from domain.scheduling import Practice

log = logging.getLogger(__name__)

LABEL: Final = "(scripted) "
TONE_MS: Final = 200


class ScriptedVoiceAgent:
    """Opens one `ScriptedConnection` per call, each playing `script` from its start."""

    def __init__(
        self,
        script: ConversationScript,
        *,
        practice: Practice,
        clock: Clock,
        pause_s: float = 0.6,
    ) -> None:
        self.script, self._practice, self._clock, self._pause_s = script, practice, clock, pause_s

    def __repr__(self) -> str:
        return f"ScriptedVoiceAgent(script={self.script.name!r})"

    async def connect(self, profile: AgentProfile, audio: AudioFormat) -> ScriptedConnection:
        """Refuses to resume a conversation (a reconnect after a failure): a script
        replayed from its start would book twice."""
        if profile.history or profile.greeting is None:
            raise AgentUnavailable("a scripted conversation cannot be resumed")
        today = self._clock.now().astimezone(self._practice.time_zone).date()
        return ScriptedConnection(
            self.script,
            greeting=profile.greeting,
            audio=audio,
            placeholders=Placeholders(today=today, practice=self._practice),
            pause_s=self._pause_s,
        )


class ScriptedConnection:
    """One scripted conversation; `events` has one consumer and ends after the script
    failed (`AgentFailed`) or `close`. Once the script is done it waits to be closed."""

    def __init__(
        self,
        script: ConversationScript,
        *,
        greeting: str | None,
        audio: AudioFormat,
        placeholders: Placeholders,
        pause_s: float,
    ) -> None:
        self._script, self._greeting, self._audio = script, greeting, audio
        self._placeholders = placeholders
        self._tone = tone(audio, TONE_MS)
        self._pause_bytes = int(pause_s * audio.bytes_per_second)
        self._heard_bytes = 0
        self._heard = asyncio.Condition()
        self._results: dict[str, asyncio.Future[str]] = {}
        self._ids = itertools.count(1)
        self._events: asyncio.Queue[AgentEvent | None] = asyncio.Queue()
        self._closed = False
        self._runner = asyncio.create_task(self._run(), name=f"scripted-{script.name}")

    async def events(self) -> AsyncIterator[AgentEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    async def send_audio(self, audio: bytes) -> None:
        self._heard_bytes += len(audio)
        async with self._heard:
            self._heard.notify_all()

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None:
        result = self._results.pop(call_id, None)
        if result is not None and not result.done():
            result.set_result(content)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._runner
        self._events.put_nowait(None)

    # --- the script ------------------------------------------------------------------

    async def _run(self) -> None:
        emit = self._events.put_nowait
        emit(AgentReady())
        try:
            if self._greeting:
                await self._say(self._greeting)
            for turn in self._script.turns:
                if turn.caller:
                    emit(Transcript("user", LABEL + turn.caller))
                for tool in turn.tools:
                    arguments = self._placeholders.fill(dict(tool.arguments))
                    content = await self._call_tool(tool.name, json.dumps(arguments))
                    self._placeholders.results[tool.name] = _decoded(content)
                if turn.agent:
                    await self._say(str(self._placeholders.fill(turn.agent)))
        except TemplateError as error:
            log.warning("script %r: %s", self._script.name, error)
            emit(AgentFailed(f"the script {self._script.name!r} failed: {error}"))
            self._events.put_nowait(None)

    async def _say(self, text: str) -> None:
        emit = self._events.put_nowait
        emit(AgentStartedSpeaking())
        emit(Transcript("assistant", LABEL + text))
        emit(AgentAudio(self._tone))
        emit(AgentAudioDone())
        await self._caller_sent(len(self._tone) + self._pause_bytes)

    async def _call_tool(self, name: str, arguments: str) -> str:
        call_id = f"scripted-{next(self._ids)}"
        result: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._results[call_id] = result
        self._events.put_nowait(ToolCallRequested(call_id, name, arguments))
        return await result

    async def _caller_sent(self, count: int) -> None:
        """Wait until the caller has sent `count` more bytes of audio (real time)."""
        target = self._heard_bytes + count
        async with self._heard:
            await self._heard.wait_for(lambda: self._heard_bytes >= target)


def _decoded(content: str) -> object:
    try:
        return json.loads(content)
    except ValueError:
        return content
