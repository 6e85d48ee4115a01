"""In-memory fakes of the two live sides of a call (`CallLeg`, `AgentConnection`) and of
the `VoiceAgent`, for unit tests of `CallSession` and `AnswerCall`.

Tests feed events into queues and await conditions on what each side received; nothing
here sleeps. `FakeCallLeg` plays like a carrier: a finished turn comes back as
`TurnPlayed` once the audio before it has played (`play_out()`), and `interrupt`
reports every pending turn played at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from application.ports import (
    TELEPHONE_AUDIO,
    AgentConnection,
    AgentEvent,
    AgentFailed,
    AgentProfile,
    AgentUnavailable,
    AudioFormat,
    CallerAudio,
    CallerEvent,
    CallerHungUp,
    CallLeg,
    CallOutcome,
    TurnPlayed,
    VoiceAgent,
)

Write = tuple[Any, ...]
"""("play", bytes) | ("interrupt",) | ("finish_turn", turn) | ("end",)"""

_END = object()


class _Watched:
    """State tests can wait on: every change notifies, `wait_until` re-checks."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await self._changed.wait_for(predicate)


class FakeCallLeg(_Watched):
    """`CallLeg` whose events the test feeds and whose writes it reads back in order."""

    def __init__(
        self,
        carrier_call_id: str = "CA0001",
        *,
        carrier: str = "fake",
        audio_format: AudioFormat = TELEPHONE_AUDIO,
    ) -> None:
        super().__init__()
        self.carrier = carrier
        self.carrier_call_id = carrier_call_id
        self.audio_format = audio_format
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._unplayed_turns: list[int] = []
        self.writes: list[Write] = []
        self.ended = False
        self.outcome: CallOutcome | None = None
        """What `end` was given."""
        self.hang_up_delivered = False
        """True once `events` has handed the session a `CallerHungUp`."""
        self.handled = 0
        """Events the session has finished with (it asked for the next one after each)."""

    # --- the test's side -----------------------------------------------------------

    def say(self, *payloads: bytes) -> None:
        """The caller speaks: one `CallerAudio` per payload."""
        for payload in payloads:
            self._events.put_nowait(CallerAudio(payload))

    def send(self, *events: CallerEvent) -> None:
        for event in events:
            self._events.put_nowait(event)

    def hang_up(self) -> None:
        self._events.put_nowait(CallerHungUp())

    def play_out(self) -> None:
        """Everything sent so far has played: each pending turn comes back played."""
        for turn in self._unplayed_turns:
            self._events.put_nowait(TurnPlayed(turn))
        self._unplayed_turns.clear()

    @property
    def played(self) -> list[bytes]:
        return [w[1] for w in self.writes if w[0] == "play"]

    @property
    def finished_turns(self) -> list[int]:
        return [w[1] for w in self.writes if w[0] == "finish_turn"]

    async def wait_for_writes(self, count: int) -> None:
        await self.wait_until(lambda: len(self.writes) >= count)

    async def wait_for_played(self, count: int) -> None:
        await self.wait_until(lambda: len(self.played) >= count)

    async def wait_for_finished_turns(self, count: int = 1) -> None:
        await self.wait_until(lambda: len(self.finished_turns) >= count)

    async def wait_ended(self) -> None:
        await self.wait_until(lambda: self.ended)

    async def wait_handled(self, count: int) -> None:
        await self.wait_until(lambda: self.handled >= count)

    # --- CallLeg ---------------------------------------------------------------------

    async def events(self) -> AsyncIterator[CallerEvent]:
        while True:
            event = await self._events.get()
            if event is _END:
                return
            if isinstance(event, CallerHungUp):
                self.hang_up_delivered = True
                await self._notify()
                yield event
                return
            yield event
            self.handled += 1
            await self._notify()

    async def play(self, audio: bytes) -> None:
        self.writes.append(("play", audio))
        await self._notify()

    async def interrupt(self) -> None:
        self.writes.append(("interrupt",))
        self.play_out()  # like a carrier: interrupted turns are reported played at once
        await self._notify()

    async def finish_turn(self, turn: int) -> None:
        self.writes.append(("finish_turn", turn))
        self._unplayed_turns.append(turn)
        await self._notify()

    async def end(self, outcome: CallOutcome) -> None:
        if self.ended:
            return
        self.writes.append(("end",))
        self.ended = True
        self.outcome = outcome
        self._events.put_nowait(_END)
        await self._notify()


@dataclass(frozen=True, slots=True)
class ToolResult:
    call_id: str
    name: str
    content: str


class FakeAgentConnection(_Watched):
    """`AgentConnection` whose events the test feeds; records what the session sent."""

    def __init__(self) -> None:
        super().__init__()
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self.audio: list[bytes] = []
        self.tool_results: list[ToolResult] = []
        self.closed = False
        self.handled = 0
        """Events the session has finished with (it asked for the next one after each)."""

    # --- the test's side -----------------------------------------------------------

    def emit(self, *events: AgentEvent) -> None:
        for event in events:
            self._events.put_nowait(event)

    def fail(self, reason: str = "socket closed") -> None:
        self._events.put_nowait(AgentFailed(reason))

    def end_stream(self) -> None:
        """The agent's events just stop (the socket went), without `close` being called."""
        self._events.put_nowait(_END)

    async def wait_handled(self, count: int) -> None:
        await self.wait_until(lambda: self.handled >= count)

    async def wait_for_audio(self, count: int) -> None:
        await self.wait_until(lambda: len(self.audio) >= count)

    async def wait_for_tool_results(self, count: int) -> None:
        await self.wait_until(lambda: len(self.tool_results) >= count)

    async def wait_closed(self) -> None:
        await self.wait_until(lambda: self.closed)

    # --- AgentConnection -------------------------------------------------------------

    async def events(self) -> AsyncIterator[AgentEvent]:
        while True:
            event = await self._events.get()
            if event is _END:
                return
            yield event
            if isinstance(event, AgentFailed):
                return
            self.handled += 1
            await self._notify()

    async def send_audio(self, audio: bytes) -> None:
        if not self.closed:
            self.audio.append(audio)
            await self._notify()

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None:
        if not self.closed:
            self.tool_results.append(ToolResult(call_id, name, content))
            await self._notify()

    async def close(self) -> None:
        self.closed = True
        self._events.put_nowait(_END)
        await self._notify()


class FakeVoiceAgent(_Watched):
    """`VoiceAgent` that hands out `FakeAgentConnection`s, or refuses when `unavailable`
    (or for the next `refusals` attempts). With `gate` set, each `connect` waits for it
    to open first; `on_connect` may script each new connection before it is returned.
    """

    def __init__(
        self,
        *,
        unavailable: bool = False,
        refusals: int = 0,
        gate: asyncio.Event | None = None,
        on_connect: Callable[[FakeAgentConnection], None] | None = None,
    ) -> None:
        super().__init__()
        self.unavailable = unavailable
        self.refusals = refusals
        self.gate = gate
        self.on_connect = on_connect
        self.profiles: list[AgentProfile] = []
        self.formats: list[AudioFormat] = []
        self.connections: list[FakeAgentConnection] = []
        self._connected = asyncio.Event()

    async def wait_connected(self) -> FakeAgentConnection:
        await self._connected.wait()
        return self.connections[-1]

    async def wait_for_attempts(self, count: int) -> None:
        await self.wait_until(lambda: len(self.profiles) >= count)

    async def wait_for_connections(self, count: int) -> FakeAgentConnection:
        await self.wait_until(lambda: len(self.connections) >= count)
        return self.connections[count - 1]

    async def connect(self, profile: AgentProfile, audio: AudioFormat) -> AgentConnection:
        self.profiles.append(profile)
        self.formats.append(audio)
        await self._notify()
        if self.gate is not None:
            await self.gate.wait()
        if self.unavailable or self.refusals > 0:
            self.refusals -= 1
            raise AgentUnavailable("the voice agent refused the connection")
        connection = FakeAgentConnection()
        if self.on_connect is not None:
            self.on_connect(connection)
        self.connections.append(connection)
        self._connected.set()
        await self._notify()
        return connection


def _typed(leg: FakeCallLeg, agent: FakeAgentConnection, voice: FakeVoiceAgent) -> None:
    """Never called: lets mypy check the fakes against the ports."""
    _: CallLeg = leg
    __: AgentConnection = agent
    ___: VoiceAgent = voice
