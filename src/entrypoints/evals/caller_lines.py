"""The caller's side of a scenario for a real voice agent: the script's caller lines,
sent as text (`TakesCallerText`) one at a time, each once the agent has finished a
turn with no tool of its running (it has answered, so it is the caller's turn)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Sequence

from application.ports import (
    AgentAudioDone,
    AgentConnection,
    AgentEvent,
    AgentProfile,
    AgentUnavailable,
    AudioFormat,
    TakesCallerText,
    ToolCallRequested,
    VoiceAgent,
)


class CallerLinesAgent:
    """Wraps the configured `VoiceAgent` for one scenario call. The lines are shared by
    the connections of the call, so a reconnected agent hears the lines not yet sent."""

    def __init__(self, agent: VoiceAgent, lines: Sequence[str]) -> None:
        self._agent = agent
        self.lines: deque[str] = deque(lines)

    async def connect(self, profile: AgentProfile, audio: AudioFormat) -> CallerLinesConnection:
        connection = await self._agent.connect(profile, audio)
        if not isinstance(connection, TakesCallerText):
            await connection.close()
            raise AgentUnavailable("this voice agent cannot take the caller's lines as text")
        return CallerLinesConnection(connection, self.lines)


class CallerLinesConnection:
    def __init__(self, inner: AgentConnection, lines: deque[str]) -> None:
        assert isinstance(inner, TakesCallerText)
        self._inner, self._typed, self._lines = inner, inner, lines
        self._tools_running: set[str] = set()

    async def events(self) -> AsyncIterator[AgentEvent]:
        async for event in self._inner.events():
            if isinstance(event, ToolCallRequested):
                self._tools_running.add(event.call_id)
            yield event
            if isinstance(event, AgentAudioDone) and not self._tools_running and self._lines:
                await self._typed.send_caller_text(self._lines.popleft())

    async def send_audio(self, audio: bytes) -> None:
        await self._inner.send_audio(audio)

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None:
        self._tools_running.discard(call_id)
        await self._inner.send_tool_result(call_id, name, content)

    async def close(self) -> None:
        await self._inner.close()
