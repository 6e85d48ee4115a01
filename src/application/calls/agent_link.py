"""`AgentLink`: the call's voice-agent connection, re-opened with the conversation so far
whenever it fails, so a dropped socket costs the caller a pause rather than the call.

The link keeps the conversation as it goes (each transcript, and each tool call with
the result the session produced for it) to hand to the next connection.

A connection fails when it reports `AgentFailed`, when its events just end, or when
the agent stays silent for `silence_timeout_s` after the caller's turn (a `user`
transcript) or after a tool result. Recovery then re-opens it through `reconnect`
(with the history, and no greeting: the caller heard it already): at most
`max_attempts` tries, spaced `backoff_s` apart (0, 1x, 2x...), all within
`budget_s` of the failure. A new connection that fails again before saying anything
counts as a failed try of the same recovery. While the link is down, caller audio is
kept (the newest `buffer_bytes`; the oldest is dropped first) and sent, in order, to
the new connection; results of tool calls the dead connection asked for are dropped
(the new one never asked). Only when recovery gives up does `events` yield an
`AgentFailed`, and then it ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from application.audio_buffer import AudioBacklog
from application.calls.events import AgentReconnected
from application.ports import (
    AgentAudio,
    AgentConnection,
    AgentEvent,
    AgentFailed,
    AgentReady,
    AgentStartedSpeaking,
    AgentUnavailable,
    HistoryItem,
    ToolCallHistory,
    ToolCallRequested,
    Transcript,
)

log = logging.getLogger(__name__)

History = Sequence[HistoryItem | ToolCallHistory]
Reconnect = Callable[[History], Awaitable[AgentConnection]]
"""Open a new connection that resumes the conversation `history` (no greeting)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryLimits:
    max_attempts: int = 3
    budget_s: float = 10.0
    """From the failure: no try starts, and none goes on, after this."""
    backoff_s: float = 0.25
    silence_timeout_s: float = 8.0
    buffer_bytes: int = 16_000
    """Caller audio kept while the link is down: 2 s of 8 kHz mu-law."""


@dataclass(slots=True)
class _Recovery:
    started_at: float
    attempts: int = 0


class AgentLink:
    """Stands in for the `AgentConnection` of one call; `events` has a single consumer."""

    def __init__(
        self,
        connection: AgentConnection,
        *,
        reconnect: Reconnect | None,
        limits: RecoveryLimits,
    ) -> None:
        self._connection = connection
        self._reconnect = reconnect
        self.history: list[HistoryItem | ToolCallHistory] = []
        self._requested: dict[str, ToolCallRequested] = {}
        self._limits = limits
        self._live = True  # False while recovering: caller audio goes to the buffer
        self._closed = False
        self._backlog = AudioBacklog(limits.buffer_bytes)
        self._open_calls: set[str] = set()
        """Ids of the tool calls the current connection asked for and awaits."""
        self._silence_deadline: float | None = None
        self._waiting: asyncio.Timeout | None = None

    # --- sending -----------------------------------------------------------------------

    async def send_audio(self, audio: bytes) -> None:
        if self._live:
            await self._connection.send_audio(audio)
            return
        if self._closed:
            return
        self._backlog.append(audio)

    @property
    def dropped_audio_bytes(self) -> int:
        """Caller audio lost while the agent was being reconnected (the backlog was full)."""
        return self._backlog.dropped_bytes

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None:
        request = self._requested.pop(call_id, None)
        if request is not None:
            self.history.append(ToolCallHistory(call_id, name, request.arguments, content))
        if call_id not in self._open_calls:
            log.warning("result of tool %s (%s) dropped: its connection is gone", name, call_id)
            return
        self._open_calls.discard(call_id)
        await self._connection.send_tool_result(call_id, name, content)
        self._arm_silence()

    async def close(self) -> None:
        self._closed = True
        self._live = False
        await self._connection.close()

    # --- receiving ---------------------------------------------------------------------

    async def events(self) -> AsyncIterator[AgentEvent | AgentReconnected]:
        recovery: _Recovery | None = None
        while True:
            spoke, reason = False, "the agent's event stream ended"
            events = aiter(self._connection.events())
            while True:
                try:
                    event = await self._next(events)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    reason = f"the agent said nothing for {self._limits.silence_timeout_s}s"
                    break
                if isinstance(event, AgentFailed):
                    reason = event.reason
                    break
                spoke = spoke or not isinstance(event, AgentReady)
                self._watch(event)
                yield event
            if self._closed:
                return
            log.warning("voice agent connection failed: %s", reason)
            if self._reconnect is None:
                yield AgentFailed(reason)
                return
            if spoke or recovery is None:
                recovery = _Recovery(asyncio.get_running_loop().time())
            self._go_down()
            await self._close_quietly(self._connection)
            connection = await self._reopen(recovery, reason)
            if connection is None:
                yield AgentFailed(
                    f"{reason}; no new connection after {recovery.attempts} attempt(s)"
                )
                return
            self._connection = connection
            await self._flush()
            yield AgentReconnected(recovery.attempts, reason)

    async def _next(self, events: AsyncIterator[AgentEvent]) -> AgentEvent:
        """The next event, or `TimeoutError` once the silence deadline (if armed) passes;
        a tool result sent meanwhile moves the deadline of this very wait."""
        async with asyncio.timeout_at(self._silence_deadline) as timeout:
            self._waiting = timeout
            try:
                return await anext(events)
            finally:
                self._waiting = None

    def _watch(self, event: AgentEvent) -> None:
        match event:
            case Transcript(role="user", text=text):
                self.history.append(HistoryItem("user", text))
                self._arm_silence()
            case Transcript(role="assistant", text=text):
                self.history.append(HistoryItem("assistant", text))
                self._silence_deadline = None
            case ToolCallRequested(call_id=call_id):
                self._open_calls.add(call_id)
                self._requested[call_id] = event
                self._silence_deadline = None
            case AgentAudio() | AgentStartedSpeaking():
                self._silence_deadline = None

    def _arm_silence(self) -> None:
        loop = asyncio.get_running_loop()
        self._silence_deadline = loop.time() + self._limits.silence_timeout_s
        if self._waiting is not None:
            self._waiting.reschedule(self._silence_deadline)

    # --- recovering --------------------------------------------------------------------

    def _go_down(self) -> None:
        self._live = False
        self._silence_deadline = None
        if self._open_calls:
            log.warning("tool calls %s lost with the agent connection", sorted(self._open_calls))
            self._open_calls.clear()

    async def _reopen(self, recovery: _Recovery, reason: str) -> AgentConnection | None:
        assert self._reconnect is not None
        loop = asyncio.get_running_loop()
        deadline = recovery.started_at + self._limits.budget_s
        while recovery.attempts < self._limits.max_attempts:
            delay = self._limits.backoff_s * recovery.attempts
            if loop.time() + delay >= deadline:
                break
            await asyncio.sleep(delay)
            recovery.attempts += 1
            try:
                async with asyncio.timeout_at(deadline):
                    return await self._reconnect(tuple(self.history))
            except (AgentUnavailable, TimeoutError) as error:
                log.warning("voice agent reconnect %d failed: %s", recovery.attempts, error)
        log.error("voice agent given up after %d reconnect attempt(s)", recovery.attempts)
        return None

    async def _flush(self) -> None:
        # Frames the caller pump adds while we await go out too: the link turns live
        # only once the buffer is empty, so no frame overtakes an older one.
        while self._backlog:
            await self._connection.send_audio(self._backlog.pop())
        self._live = not self._closed

    @staticmethod
    async def _close_quietly(connection: AgentConnection) -> None:
        try:
            await connection.close()
        except Exception:
            log.exception("closing the failed voice agent connection failed")
