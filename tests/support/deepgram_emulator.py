"""A strict, scripted emulator of Deepgram's Voice Agent API on a real WebSocket server.

Used by the adapter's integration and contract tests, by end-to-end tests of a whole
call, and by the load benchmark (hundreds of concurrent sessions), so it does no
per-frame logging and sends pre-built audio chunks.

What it enforces, like the service:
- the handshake must carry `Authorization: Token <api_key>` (otherwise HTTP 401);
- the first client message must be a `Settings` that validates against strict structs
  (unknown fields, missing required fields and wrong types are refused); audio or any
  other message first, or an invalid `Settings`, gets an `Error {description, code}`
  and the socket closed (code 1008);
- after that, only known client messages; a `FunctionCallResponse` with an id we never
  asked for gets an `Error`.

Use:

    script = [Say("Hi, how can I help?"), ExpectAudio(3200),
              CallFunction("find_open_slots", '{"day": "2025-06-03"}'), WaitForClose()]
    async with DeepgramEmulator(api_key="k", script=script) as emulator:
        agent = DeepgramVoiceAgent(emulator.url, "k")
        ...
        session = await emulator.session(0)          # the first connection, once open
        await session.wait_until(lambda: session.keepalives >= 1)
        assert session.function_responses[0].content == ...

`script` is a list of steps run in order for every session, or a callable that makes
one per session (it gets the session's index). Steps after the greeting (spoken first
when the settings have `agent.greeting`) run while the receive loop records what the
client sends; the session stays open until the client closes or a `Drop` step.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, Self

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

# --- the strict schema of what a client may send --------------------------------------


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class AudioInputIn(_Strict):
    encoding: Literal["linear16", "linear32", "flac", "alaw", "mulaw", "amr-nb", "amr-wb",
                      "opus", "ogg-opus", "speex", "g729"]  # fmt: skip
    sample_rate: int


class AudioOutputIn(_Strict):
    encoding: Literal["linear16", "mulaw", "alaw"] | None = None
    sample_rate: int | None = None
    bitrate: int | None = None
    container: Literal["none", "wav"] | None = None


class AudioIn(_Strict):
    input: AudioInputIn | None = None
    output: AudioOutputIn | None = None


class ListenProviderIn(_Strict):
    type: Literal["deepgram"]
    model: str
    version: Literal["v1", "v2"] | None = None
    language: str | None = None
    language_hints: list[str] | None = None
    keyterms: list[str] | None = None
    smart_format: bool | None = None
    eot_threshold: float | None = None
    eager_eot_threshold: float | None = None
    eot_timeout_ms: int | None = None


class ListenIn(_Strict):
    provider: ListenProviderIn


class ThinkProviderIn(_Strict):
    type: str
    model: str | None = None
    temperature: float | None = None


class EndpointIn(_Strict):
    url: str
    headers: dict[str, str] | None = None


class FunctionIn(_Strict):
    name: str
    description: str
    parameters: dict[str, Any]
    endpoint: EndpointIn | None = None


class ThinkIn(_Strict):
    provider: ThinkProviderIn
    endpoint: EndpointIn | None = None
    functions: list[FunctionIn] | None = None
    prompt: str | None = None
    context_length: int | Literal["max"] | None = None


class SpeakProviderIn(_Strict):
    type: str
    model: str | None = None


class SpeakIn(_Strict):
    provider: SpeakProviderIn
    endpoint: EndpointIn | None = None


class FunctionCallHistoryIn(_Strict):
    id: str
    name: str
    client_side: bool
    arguments: str
    response: str


class HistoryIn(_Strict, tag="History", tag_field="type"):
    """Either a spoken turn (`role`, `content`) or `function_calls`."""

    role: Literal["user", "assistant"] | None = None
    content: str | None = None
    function_calls: list[FunctionCallHistoryIn] | None = None


class ContextIn(_Strict):
    messages: list[HistoryIn]


class AgentIn(_Strict):
    language: str | None = None
    context: ContextIn | None = None
    listen: ListenIn | None = None
    think: ThinkIn | None = None
    speak: SpeakIn | list[SpeakIn] | None = None
    greeting: str | None = None


class FlagsIn(_Strict):
    history: bool | None = None


class SettingsIn(_Strict, tag="Settings", tag_field="type"):
    audio: AudioIn
    agent: AgentIn
    tags: list[str] | None = None
    experimental: bool | None = None
    mip_opt_out: bool | None = None
    flags: FlagsIn | None = None


class KeepAliveIn(_Strict, tag="KeepAlive", tag_field="type"):
    pass


class FunctionCallResponseIn(_Strict, tag="FunctionCallResponse", tag_field="type"):
    id: str
    name: str
    content: str


class InjectAgentMessageIn(_Strict, tag="InjectAgentMessage", tag_field="type"):
    message: str


class InjectUserMessageIn(_Strict, tag="InjectUserMessage", tag_field="type"):
    content: str


class UpdatePromptIn(_Strict, tag="UpdatePrompt", tag_field="type"):
    prompt: str


ClientMessageIn = (
    SettingsIn
    | KeepAliveIn
    | FunctionCallResponseIn
    | InjectAgentMessageIn
    | InjectUserMessageIn
    | UpdatePromptIn
)
_client_decoder = msgspec.json.Decoder(ClientMessageIn)
_encode = msgspec.json.Encoder().encode


def validate_settings(frame: str | bytes) -> SettingsIn:
    """The Settings in `frame`, or `msgspec.ValidationError` saying what is wrong."""
    message = _client_decoder.decode(frame)
    if not isinstance(message, SettingsIn):
        raise msgspec.ValidationError(f"expected Settings first, got {type(message).__name__}")
    for item in message.agent.context.messages if message.agent.context else ():
        spoken = item.role is not None and item.content is not None
        if spoken == (item.function_calls is not None):
            raise msgspec.ValidationError(
                "a History message has either role and content, or function_calls"
            )
    return message


# --- the script ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpectAudio:
    """Wait until the session has received at least `min_bytes` of caller audio in total."""

    min_bytes: int


@dataclass(frozen=True, slots=True)
class Say:
    """The agent speaks: AgentStartedSpeaking, ConversationText, audio, AgentAudioDone."""

    text: str
    audio_bytes: int = 1600
    fill: int | None = None
    """The byte every audio sample carries (None: mu-law silence), so a test can tell
    one utterance's frames from another's."""


@dataclass(frozen=True, slots=True)
class UserSays:
    """The caller's turn as the service reports it: UserStartedSpeaking, ConversationText."""

    text: str


@dataclass(frozen=True, slots=True)
class AwaitUserMessage:
    """Wait until the client has injected `count` user messages (`InjectUserMessage`)
    in all; each is answered at once with the user's `ConversationText`, as the
    service does."""

    count: int = 1
    timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class CallFunction:
    """Ask the client to run a function (fresh id, client_side) and wait for its response."""

    name: str
    arguments: str = "{}"
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class SendRaw:
    """Send this text frame as is (e.g. a message type the client does not know)."""

    text: str


@dataclass(frozen=True, slots=True)
class SendError:
    """Send an `Error` message (the socket stays open)."""

    description: str
    code: str = "EMULATED_ERROR"


@dataclass(frozen=True, slots=True)
class Close:
    """Close the socket cleanly from the server side."""

    code: int = 1000
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Drop:
    """Drop the TCP connection with no close frame (the client sees code 1006)."""


@dataclass(frozen=True, slots=True)
class WaitForClose:
    """Wait until the client closes the socket."""


Step = (
    ExpectAudio
    | Say
    | UserSays
    | AwaitUserMessage
    | CallFunction
    | SendRaw
    | SendError
    | Close
    | Drop
    | WaitForClose
)
Script = Sequence[Step]

AUDIO_CHUNK_BYTES = 800  # 100 ms of 8 kHz mu-law
_SILENCE_CHUNK = b"\xff" * AUDIO_CHUNK_BYTES  # mu-law silence, built once


def _frame(type_: str, **fields: Any) -> bytes:
    return _encode({"type": type_, **fields})


_SETTINGS_APPLIED = _frame("SettingsApplied")
_AGENT_AUDIO_DONE = _frame("AgentAudioDone")
_USER_STARTED_SPEAKING = _frame("UserStartedSpeaking")
_AGENT_STARTED_SPEAKING = _frame(
    "AgentStartedSpeaking", total_latency=0.25, tts_latency=0.1, ttt_latency=0.15
)


# --- per-session records ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunctionResponseRecord:
    id: str
    name: str
    content: str


@dataclass(eq=False)
class EmulatedSession:
    """What one connection did; the emulator updates it and wakes `wait_until` waiters."""

    index: int
    request_id: str
    settings: SettingsIn | None = None
    audio_bytes: int = 0
    audio: bytearray | None = None
    """Every caller audio byte, in order, when the emulator runs with `record_audio`."""
    keepalives: int = 0
    function_responses: list[FunctionResponseRecord] = field(default_factory=list)
    injected_agent_messages: list[str] = field(default_factory=list)
    injected_user_messages: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    errors_sent: list[str] = field(default_factory=list)
    """The `code` of every Error message we sent."""
    script_error: str | None = None
    script_done: bool = False
    receiving: bool = True
    """False once the client's side of the socket is gone (the script may still run)."""
    closed: bool = False
    _waiters: list[asyncio.Future[None]] = field(default_factory=list, repr=False)

    def changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Return once `condition()` holds; re-checked on every change of the record."""
        async with asyncio.timeout(timeout_s):
            while not condition():
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter

    async def wait_closed(self, timeout_s: float = 5.0) -> None:
        await self.wait_until(lambda: self.closed, timeout_s)


# --- the server ---------------------------------------------------------------------


class DeepgramEmulator:
    """The Voice Agent API on `ws://127.0.0.1:<port>`; an async context manager.

    `sessions` lists every connection that passed the handshake, in order.
    """

    def __init__(
        self,
        *,
        api_key: str,
        script: Script | Callable[[int], Script] = (),
        record_audio: bool = False,
        speak_injections: bool = True,
        welcome_delay_s: float = 0.0,
        settings_delay_s: float = 0.0,
        greeting_delay_s: float = 0.0,
    ) -> None:
        """The delays stand in for a service far away: `welcome_delay_s` before
        `Welcome` (the handshake), `settings_delay_s` from `Settings` to
        `SettingsApplied`, `greeting_delay_s` from then to the greeting's first audio."""
        self.api_key = api_key
        self._welcome_delay_s = welcome_delay_s
        self._settings_delay_s = settings_delay_s
        self._greeting_delay_s = greeting_delay_s
        self._script = script
        self._record_audio = record_audio
        self._speak_injections = speak_injections
        self.sessions: list[EmulatedSession] = []
        self.rejected_handshakes = 0
        self._server: Server | None = None
        self._ids = itertools.count(1)
        self._session_added: list[asyncio.Future[None]] = []

    @property
    def url(self) -> str:
        assert self._server is not None, "start the emulator first"
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/agent/converse"

    async def __aenter__(self) -> Self:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._check_auth,
            compression=None,
            max_size=1 << 20,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def session(self, index: int, timeout_s: float = 5.0) -> EmulatedSession:
        """The `index`-th session (from 0), once its client has connected."""
        async with asyncio.timeout(timeout_s):
            while len(self.sessions) <= index:
                waiter = asyncio.get_running_loop().create_future()
                self._session_added.append(waiter)
                await waiter
        return self.sessions[index]

    def _check_auth(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Authorization") == f"Token {self.api_key}":
            return None
        self.rejected_handshakes += 1
        return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")

    # --- one connection --------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        index = len(self.sessions)
        session = EmulatedSession(index=index, request_id=f"emulated-{next(self._ids)}")
        if self._record_audio:
            session.audio = bytearray()
        self.sessions.append(session)
        waiters, self._session_added = self._session_added, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        script = self._script(index) if callable(self._script) else self._script
        pending_calls: dict[str, asyncio.Future[str]] = {}
        speaking = asyncio.Lock()
        try:
            if self._welcome_delay_s:
                await asyncio.sleep(self._welcome_delay_s)
            await ws.send(_frame("Welcome", request_id=session.request_id), text=True)
            first = await ws.recv()
            if isinstance(first, bytes):
                await self._refuse(ws, session, "audio received before Settings", "NO_SETTINGS")
                return
            try:
                session.settings = validate_settings(first)
            except msgspec.ValidationError as error:
                await self._refuse(ws, session, f"invalid Settings: {error}", "INVALID_SETTINGS")
                return
            session.changed()
            if self._settings_delay_s:
                await asyncio.sleep(self._settings_delay_s)
            await ws.send(_SETTINGS_APPLIED, text=True)
            receiver = asyncio.create_task(
                self._receive(ws, session, pending_calls, speaking), name="emulator-receive"
            )
            try:
                greeting = session.settings.agent.greeting
                if greeting:
                    async with speaking:
                        if self._greeting_delay_s:
                            await asyncio.sleep(self._greeting_delay_s)
                        await _speak(ws, greeting, 1600, started=False)
                await self._run(ws, session, script, pending_calls, speaking, receiver)
                await asyncio.wait([receiver])
            finally:
                receiver.cancel()
                await asyncio.wait([receiver])
        except ConnectionClosed:
            pass
        finally:
            session.closed = True
            session.changed()

    async def _refuse(
        self, ws: ServerConnection, session: EmulatedSession, description: str, code: str
    ) -> None:
        session.errors_sent.append(code)
        session.changed()
        await ws.send(_frame("Error", description=description, code=code), text=True)
        await ws.close(1008, code)

    async def _run(
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        script: Script,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
        receiver: asyncio.Task[None],
    ) -> None:
        try:
            for step in script:
                match step:
                    case ExpectAudio(min_bytes=min_bytes):
                        await session.wait_until(
                            lambda n=min_bytes: session.audio_bytes >= n or not session.receiving,
                            timeout_s=3600,
                        )
                    case Say(text=text, audio_bytes=audio_bytes, fill=fill):
                        async with speaking:
                            await _speak(ws, text, audio_bytes, started=True, fill=fill)
                    case UserSays(text=text):
                        await ws.send(_USER_STARTED_SPEAKING, text=True)
                        await ws.send(
                            _frame("ConversationText", role="user", content=text), text=True
                        )
                    case AwaitUserMessage(count=count, timeout_s=timeout_s):
                        await session.wait_until(
                            lambda n=count: (
                                len(session.injected_user_messages) >= n or not session.receiving
                            ),
                            timeout_s=timeout_s,
                        )
                    case CallFunction(name=name, arguments=arguments, timeout_s=timeout_s):
                        call_id = f"call_{session.index}_{next(self._ids)}"
                        response = asyncio.get_running_loop().create_future()
                        pending_calls[call_id] = response
                        item = {"id": call_id, "name": name, "arguments": arguments}
                        await ws.send(
                            _frame("FunctionCallRequest", functions=[item | {"client_side": True}]),
                            text=True,
                        )
                        await asyncio.wait(
                            [response, receiver],
                            timeout=timeout_s,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                        if not response.done():
                            session.script_error = f"no response to {name} ({call_id})"
                            break
                    case SendRaw(text=text):
                        await ws.send(text, text=True)
                    case SendError(description=description, code=code):
                        session.errors_sent.append(code)
                        await ws.send(
                            _frame("Error", description=description, code=code), text=True
                        )
                    case Close(code=code, reason=reason):
                        await ws.close(code, reason)
                    case Drop():
                        ws.transport.abort()
                        receiver.cancel()
                    case WaitForClose():
                        await asyncio.wait([receiver])
        except TimeoutError:
            session.script_error = f"timed out at step {step!r}"
        session.script_done = True
        session.changed()

    async def _receive(
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
    ) -> None:
        try:
            await self._receive_frames(ws, session, pending_calls, speaking)
        finally:
            session.receiving = False
            session.changed()

    async def _receive_frames(
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                if isinstance(frame, bytes):
                    session.audio_bytes += len(frame)
                    if session.audio is not None:
                        session.audio += frame
                    if session._waiters:
                        session.changed()
                    continue
                try:
                    message = _client_decoder.decode(frame)
                except msgspec.ValidationError as error:
                    await self._refuse(ws, session, f"invalid message: {error}", "INVALID_MESSAGE")
                    return
                match message:
                    case KeepAliveIn():
                        session.keepalives += 1
                    case FunctionCallResponseIn(id=call_id, name=name, content=content):
                        future = pending_calls.pop(call_id, None)
                        if future is None:
                            session.errors_sent.append("UNKNOWN_FUNCTION_CALL_ID")
                            await ws.send(
                                _frame(
                                    "Error",
                                    description=f"no function call with id {call_id!r}",
                                    code="UNKNOWN_FUNCTION_CALL_ID",
                                ),
                                text=True,
                            )
                        else:
                            session.function_responses.append(
                                FunctionResponseRecord(id=call_id, name=name, content=content)
                            )
                            future.set_result(content)
                    case InjectAgentMessageIn(message=text):
                        session.injected_agent_messages.append(text)
                        if self._speak_injections:
                            async with speaking:
                                await _speak(ws, text, 1600, started=True)
                    case InjectUserMessageIn(content=text):
                        if not text.strip():
                            await self._refuse(
                                ws, session, "InjectUserMessage without content", "EMPTY_INJECTION"
                            )
                            return
                        session.injected_user_messages.append(text)
                        await ws.send(
                            _frame("ConversationText", role="user", content=text), text=True
                        )
                    case UpdatePromptIn(prompt=prompt):
                        session.prompts.append(prompt)
                        await ws.send(_frame("PromptUpdated"), text=True)
                    case SettingsIn():
                        await self._refuse(ws, session, "Settings sent twice", "SETTINGS_TWICE")
                        return
                session.changed()


async def _speak(
    ws: ServerConnection, text: str, audio_bytes: int, *, started: bool, fill: int | None = None
) -> None:
    if started:
        await ws.send(_AGENT_STARTED_SPEAKING, text=True)
    await ws.send(_frame("ConversationText", role="assistant", content=text), text=True)
    chunk = _SILENCE_CHUNK if fill is None else bytes([fill]) * AUDIO_CHUNK_BYTES
    full, rest = divmod(audio_bytes, AUDIO_CHUNK_BYTES)
    for _ in range(full):
        await ws.send(chunk)
    if rest:
        await ws.send(chunk[:rest])
    await ws.send(_AGENT_AUDIO_DONE, text=True)
