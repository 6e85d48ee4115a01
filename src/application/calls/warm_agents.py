"""`WarmAgents`: voice agent conversations opened when a call is admitted, before its
media stream arrives, and handed to the stream when it does.

Opening a conversation with a voice agent in the cloud takes most of a second (the
handshake, the settings, the greeting's first audio), and a carrier opens the media
stream a moment after the webhook answers. Doing both at once, rather than one after
the other, is what brings the caller the first word sooner.

A prepared conversation is `HeldConnection`: its events (the greeting's audio among
them) are read and kept until the session takes it, so nothing is lost and the agent's
socket is not left unread. The stream takes it only once its token has been accepted
(`AnswerCall`), in the same process, for the same audio format; any other stream
connects then, as before. One the stream never takes (the caller hung up while it
rang, the stream went to another process) is closed after `timeout_s`. Each ending is
counted through `WarmAgentObserver`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol

from application.calls.briefing import Briefing
from application.ports import (
    AgentConnection,
    AgentEvent,
    AgentFailed,
    AgentUnavailable,
    AudioFormat,
    VoiceAgent,
)

log = logging.getLogger(__name__)

HANDED_OVER: Final = "handed_over"
"""The stream took the prepared conversation."""
CONNECTED_AT_STREAM: Final = "connected_at_stream"
"""None was ready to take (another process, another format, its opening failed)."""
EXPIRED: Final = "expired"
"""No stream came within the timeout: the conversation was closed."""
DISCARDED: Final = "discarded"
"""The call ended (or was admitted again) before its stream: the conversation was closed."""


class WarmAgentObserver(Protocol):
    def prepared_agent_ended(self, outcome: str) -> None:
        """One prepared conversation's ending; never raises."""
        ...


class _NoObserver:
    def prepared_agent_ended(self, outcome: str) -> None:
        pass


_END = object()


class HeldConnection:
    """An `AgentConnection` that is still opening, or open and not yet taken: its
    events are read and kept until `events()` is first called, then the kept ones come
    first, in order. Audio sent while it opens waits for it. If it cannot be opened,
    `events` reports that as an `AgentFailed` (the session's recovery takes over)."""

    def __init__(self, opening: asyncio.Task[AgentConnection]) -> None:
        self._opening = opening
        self._inner: AgentConnection | None = None
        self._stream: AsyncIterator[AgentEvent] | None = None
        self._kept: deque[AgentEvent] = deque()
        self._ended = False
        self._released = asyncio.Event()
        self._pending: asyncio.Task[object] | None = None
        self._holder = asyncio.create_task(self._hold(), name="agent-held-events")

    @property
    def usable(self) -> bool:
        """Opening or open, and has not reported a failure."""
        opening = self._opening
        if opening.done() and (opening.cancelled() or opening.exception() is not None):
            return False
        return not self._ended and not any(isinstance(e, AgentFailed) for e in self._kept)

    async def _open(self) -> AgentConnection | None:
        if self._inner is None and not self._ended:
            try:
                self._inner = await asyncio.shield(self._opening)
            except AgentUnavailable as exc:
                self._fail(f"the voice agent could not be opened ahead: {exc}")
            except Exception as exc:
                self._fail(f"opening the voice agent ahead failed: {type(exc).__name__}")
        return self._inner

    def _fail(self, reason: str) -> None:
        if not self._ended:
            self._kept.append(AgentFailed(reason))
            self._ended = True

    async def _next(self) -> object:
        assert self._stream is not None
        try:
            return await anext(self._stream)
        except StopAsyncIteration:
            return _END

    async def _hold(self) -> None:
        inner = await self._open()
        if inner is None:
            return
        self._stream = aiter(inner.events())
        release = asyncio.create_task(self._released.wait())
        try:
            while True:
                step = asyncio.create_task(self._next())
                await asyncio.wait({step, release}, return_when=asyncio.FIRST_COMPLETED)
                if not step.done():  # released mid-read: the reader finishes this one
                    self._pending = step
                    return
                event = step.result()
                if event is _END:
                    self._ended = True
                    return
                self._kept.append(event)  # type: ignore[arg-type]
                if release.done():
                    return
        finally:
            release.cancel()

    async def events(self) -> AsyncIterator[AgentEvent]:
        self._released.set()
        await self._holder
        while self._kept:
            yield self._kept.popleft()
        if self._ended or self._stream is None:
            return
        if self._pending is not None:
            event = await self._pending
            self._pending = None
            if event is _END:
                return
            yield event  # type: ignore[misc]
        async for event in self._stream:
            yield event

    async def send_audio(self, audio: bytes) -> None:
        inner = self._inner or await self._open()
        if inner is not None:
            await inner.send_audio(audio)

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None:
        inner = self._inner or await self._open()
        if inner is not None:
            await inner.send_tool_result(call_id, name, content)

    async def close(self) -> None:
        """Close it, once open if it is still opening (a half-open socket is closed more
        surely once open than by cancelling its opening)."""
        self._released.set()
        for task in (self._holder, self._pending):
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._holder, self._pending) if t is not None), return_exceptions=True
        )
        inner = await self._open()
        if inner is not None:
            await inner.close()


Prepared = tuple[Briefing, HeldConnection]


@dataclass(slots=True)
class _Warm:
    audio: AudioFormat
    briefing: asyncio.Task[Briefing | None]
    connection: HeldConnection
    expiry: asyncio.TimerHandle


class WarmAgents:
    """The prepared conversations of one process, by call (carrier and its reference)."""

    def __init__(
        self,
        voice_agent: VoiceAgent,
        *,
        timeout_s: float = 20.0,
        observer: WarmAgentObserver | None = None,
    ) -> None:
        self._voice_agent = voice_agent
        self._timeout_s = timeout_s
        self._observer: WarmAgentObserver = observer or _NoObserver()
        self._warm: dict[str, _Warm] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._warm)

    def prepare(
        self, key: str, audio: AudioFormat, brief: Callable[[], Awaitable[Briefing]]
    ) -> None:
        """Start briefing and opening a conversation for call `key` in the background;
        one prepared earlier for the same call (a repeated webhook) is closed."""
        self.discard(key)
        briefing = asyncio.create_task(_briefed(brief), name=f"agent-brief-{key}")
        opening = asyncio.create_task(self._connect(briefing, audio), name=f"agent-open-{key}")
        expiry = asyncio.get_running_loop().call_later(self._timeout_s, self._expire, key)
        self._warm[key] = _Warm(audio, briefing, HeldConnection(opening), expiry)

    async def take(self, key: str, audio: AudioFormat) -> Prepared | None:
        """Call `key`'s briefing (waited for) and its conversation, which may still be
        opening; or None: the caller connects one now."""
        warm = self._warm.pop(key, None)
        if warm is None:
            self._observer.prepared_agent_ended(CONNECTED_AT_STREAM)
            return None
        warm.expiry.cancel()
        briefing = await warm.briefing if warm.audio == audio else None
        if briefing is None or not warm.connection.usable:
            if warm.audio != audio:
                log.info(
                    "prepared agent not used: the stream carries %s, not %s", audio, warm.audio
                )
            self._close_later(warm.connection)
            self._observer.prepared_agent_ended(CONNECTED_AT_STREAM)
            return None
        self._observer.prepared_agent_ended(HANDED_OVER)
        return briefing, warm.connection

    def discard(self, key: str) -> None:
        """Close call `key`'s prepared conversation, if there is one (the call ended)."""
        warm = self._warm.pop(key, None)
        if warm is not None:
            warm.expiry.cancel()
            self._close_later(warm.connection)
            self._observer.prepared_agent_ended(DISCARDED)

    async def aclose(self) -> None:
        """Close every prepared conversation (the process is stopping)."""
        for key in list(self._warm):
            self.discard(key)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _expire(self, key: str) -> None:
        warm = self._warm.pop(key, None)
        if warm is not None:
            log.info("a prepared agent conversation was closed: no media stream came")
            self._close_later(warm.connection)
            self._observer.prepared_agent_ended(EXPIRED)

    def _close_later(self, connection: HeldConnection) -> None:
        task = asyncio.create_task(_close(connection), name="agent-prepared-close")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _connect(
        self, briefing: asyncio.Task[Briefing | None], audio: AudioFormat
    ) -> AgentConnection:
        briefed = await briefing
        if briefed is None:
            raise AgentUnavailable("the call could not be briefed")
        return await self._voice_agent.connect(briefed.profile, audio)


async def _briefed(brief: Callable[[], Awaitable[Briefing]]) -> Briefing | None:
    try:
        return await brief()
    except Exception:
        log.exception("briefing the voice agent ahead of the stream failed")
        return None


async def _close(connection: HeldConnection) -> None:
    try:
        await connection.close()
    except Exception:
        log.exception("closing a prepared voice agent conversation failed")
