"""`VoiceAgent` on Deepgram's Voice Agent API: one WebSocket per conversation.

Audio goes out as binary frames, control messages as JSON text frames; the service's
frames come back as `AgentEvent`s. Failures to open raise `AgentUnavailable`; failures
after that are reported once, as a final `AgentFailed` event. An `Error` message is
such a failure: Deepgram documents it as fatal ("treat every Error as a
session-ending event and reconnect"), so the connection waits briefly for the
service to close the socket (for its close code), closes it otherwise, and fails.
The API key is sent in the handshake header and appears in no message or log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Final

from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

from adapters.deepgram import messages as m
from adapters.deepgram.options import DeepgramOptions
from adapters.deepgram.settings import render_settings
from adapters.deepgram.socket import AgentSocket
from application.audio_buffer import AudioBacklog
from application.ports.voice import (
    AgentAudio,
    AgentAudioDone,
    AgentEvent,
    AgentFailed,
    AgentProfile,
    AgentReady,
    AgentStartedSpeaking,
    AgentUnavailable,
    AudioFormat,
    ToolCallRequested,
    Transcript,
    UserStartedSpeaking,
)

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES: Final = 1 << 20
"""Largest frame we accept from the service (its audio chunks are a few KiB)."""
JOIN_AUDIO_BYTES: Final = 4000
"""At most this much waiting audio (0.5 s) is joined to the chunk read."""
ERROR_CLOSE_GRACE_S: Final = 0.5
"""After an `Error`, how long the service has to close the socket before we do."""


class DeepgramVoiceAgent:
    """Opens `DeepgramAgentConnection`s to `url` (normally
    `wss://agent.deepgram.com/v1/agent/converse`).

    `connect_timeout_s` bounds the whole opening: TCP, TLS, handshake and `Welcome`.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        options: DeepgramOptions | None = None,
        connect_timeout_s: float = 5.0,
        keepalive_interval_s: float = 5.0,
        audio_buffer_limit_bytes: int = 160_000,
    ) -> None:
        self._url = url
        self._options = options or DeepgramOptions()
        self._api_key = api_key
        self._connect_timeout_s = connect_timeout_s
        self._keepalive_interval_s = keepalive_interval_s
        self._audio_buffer_limit_bytes = audio_buffer_limit_bytes

    def __repr__(self) -> str:
        return f"DeepgramVoiceAgent(url={self._url!r})"

    async def connect(self, profile: AgentProfile, audio: AudioFormat) -> DeepgramAgentConnection:
        """Open the socket, await `Welcome`, send `Settings`, and return at once.

        `SettingsApplied` arrives later as `AgentReady`; audio sent before it is
        buffered. Raises `AgentUnavailable` (with a reason, never the key) if the
        socket cannot be opened or no `Welcome` comes within the timeout.
        """
        settings_frame = m.encode(render_settings(profile, audio, self._options))
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                # No permessage-deflate: mu-law barely compresses, and it costs CPU per frame.
                ws = await AgentSocket.open(
                    self._url,
                    headers={"Authorization": f"Token {self._api_key}"},
                    max_size=MAX_FRAME_BYTES,
                )
                try:
                    request_id = await _await_welcome(ws)
                except BaseException:
                    ws.abort("the conversation did not open")
                    raise
                ws.send_text(settings_frame)
        except TimeoutError:
            raise AgentUnavailable(
                f"Deepgram did not open a conversation within {self._connect_timeout_s}s"
            ) from None
        except InvalidStatus as error:
            raise AgentUnavailable(
                f"Deepgram refused the connection: HTTP {error.response.status_code}"
            ) from None
        except (OSError, InvalidURI, WebSocketException) as error:
            raise AgentUnavailable(
                f"Deepgram unreachable: {type(error).__name__}: {error}"
            ) from None
        logger.info("Deepgram agent connected (request_id=%s)", request_id)
        return DeepgramAgentConnection(
            ws,
            request_id=request_id,
            keepalive_interval_s=self._keepalive_interval_s,
            audio_buffer_limit_bytes=self._audio_buffer_limit_bytes,
        )


async def _await_welcome(ws: AgentSocket) -> str:
    async for frame in ws.messages():
        message = None if isinstance(frame, bytes) else m.decode(frame)
        if isinstance(message, m.Welcome):
            return message.request_id
        if isinstance(message, m.ServerError):
            raise AgentUnavailable(f"Deepgram error before Welcome: {message.code}")
        logger.debug("Deepgram frame before Welcome ignored")
    raise AgentUnavailable(f"Deepgram closed the connection before Welcome (code {ws.close_code})")


class DeepgramAgentConnection:
    """One conversation. `events()` has a single consumer; sends may come from any task.

    Audio sent before `SettingsApplied` is buffered (at most `audio_buffer_limit_bytes`;
    the oldest frames are dropped first and counted in `dropped_audio_bytes`) and
    flushed in order before any later frame. After a failure or `close()`, sends do
    nothing. Sends never wait: the socket writes at once.
    """

    def __init__(
        self,
        ws: AgentSocket,
        *,
        request_id: str,
        keepalive_interval_s: float,
        audio_buffer_limit_bytes: int,
    ) -> None:
        self._ws = ws
        self.request_id = request_id
        self._keepalive_interval_s = keepalive_interval_s
        self._backlog = AudioBacklog(audio_buffer_limit_bytes)
        self._ready = False  # True once the buffer is flushed: audio goes straight out
        self._stopped = False  # close() called, or the failure reported
        self._closing = False
        self._audio_flowing = False  # audio sent since the keepalive task last looked
        self._last_error: m.ServerError | None = None
        self._keepalive_task = asyncio.create_task(
            self._keep_alive(), name=f"deepgram-keepalive-{request_id}"
        )

    def __repr__(self) -> str:
        return f"DeepgramAgentConnection(request_id={self.request_id!r})"

    # --- sending ---------------------------------------------------------------------

    async def send_audio(self, audio: bytes) -> None:
        if self._ready:
            self._audio_flowing = True
            self._ws.send_binary(audio)
            return
        if self._stopped:
            return
        self._backlog.append(audio)

    @property
    def dropped_audio_bytes(self) -> int:
        """Audio lost before `SettingsApplied` because the backlog was full."""
        return self._backlog.dropped_bytes

    async def send_tool_result(self, call_id: str, name: str, content: str) -> None:
        self._send_control(m.FunctionCallResponse(id=call_id, name=name, content=content))

    async def inject_message(self, text: str) -> None:
        self._send_control(m.InjectAgentMessage(message=text))

    async def send_caller_text(self, text: str) -> None:
        """The caller's words as text (`InjectUserMessage`): the agent answers them as
        if spoken. Sent at once, like every control message; the service reports the
        text back as the user's `ConversationText`."""
        self._send_control(m.InjectUserMessage(content=text))

    def _send_control(self, message: m.ClientMessage) -> None:
        if not self._stopped:
            self._ws.send_text(m.encode(message))

    def _flush_buffer(self) -> None:
        while self._backlog:
            self._ws.send_binary(self._backlog.pop())
        self._ready = True
        if self.dropped_audio_bytes:
            logger.warning(
                "Deepgram audio buffer overflowed before SettingsApplied: %d bytes dropped",
                self.dropped_audio_bytes,
            )

    async def _keep_alive(self) -> None:
        while self._ws.is_open:
            await asyncio.sleep(self._keepalive_interval_s)
            if self._audio_flowing:
                self._audio_flowing = False
                continue
            self._ws.send_text(m.KEEPALIVE_FRAME)

    # --- receiving -------------------------------------------------------------------

    async def events(self) -> AsyncIterator[AgentEvent]:
        ws = self._ws
        async for frame in ws.messages():
            if isinstance(frame, bytes):
                # Audio that queued up behind this chunk (the loop was busy) goes out
                # with it: one message to the caller instead of several, same bytes.
                more = ws.take_waiting_binary(JOIN_AUDIO_BYTES)
                yield AgentAudio(b"".join((frame, *more)) if more else frame)
                continue
            message = m.decode(frame)
            if message is None:
                continue
            if isinstance(message, m.SettingsApplied):
                self._flush_buffer()
                yield AgentReady()
                continue
            for event in self._translate(message):
                yield event
            if isinstance(message, m.ServerError):
                await self._close_after_error()
                break
        if self._closing:
            return
        self._stopped = True
        self._ready = False
        self._keepalive_task.cancel()
        yield AgentFailed(self._failure_reason())

    def _translate(self, message: m.ServerMessage) -> list[AgentEvent]:
        match message:
            case m.ConversationText(role=role, content=content):
                return [Transcript(role=role, text=content)]
            case m.UserStartedSpeaking():
                return [UserStartedSpeaking()]
            case m.AgentStartedSpeaking(total_latency=latency_s):
                return [AgentStartedSpeaking(total_latency_s=latency_s)]
            case m.AgentAudioDone():
                return [AgentAudioDone()]
            case m.FunctionCallRequest(functions=functions):
                return [
                    ToolCallRequested(call_id=call.id, name=call.name, arguments=call.arguments)
                    for call in functions
                    if call.client_side
                ]
            case m.ServerError(code=code, description=description):
                self._last_error = message
                logger.warning("Deepgram error %s: %s", code, description)
            case m.ServerWarning(code=code, description=description):
                logger.info("Deepgram warning %s: %s", code, description)
            case m.InjectionRefused(message=refused):
                logger.info("Deepgram refused an injected message: %s", refused)
            case _:
                logger.debug("Deepgram %s", type(message).__name__)
        return []

    async def _close_after_error(self) -> None:
        # The session is over: nothing more is worth reading, only the close code.
        if not await self._ws.wait_closed(ERROR_CLOSE_GRACE_S):
            self._ws.abort("an Error, and the service left the socket open")

    def _failure_reason(self) -> str:
        ws = self._ws
        if ws.aborted_reason is not None and self._last_error is not None:
            error = self._last_error
            return f"Deepgram error {error.code}: {error.description} (we closed the socket)"
        if ws.aborted_reason is not None:
            return f"Deepgram connection dropped: {ws.aborted_reason}"
        reason = f"Deepgram closed the conversation (code {ws.close_code}"
        if ws.close_reason:
            reason += f", {ws.close_reason!r}"
        reason += ")"
        if self._last_error is not None:
            reason += f" after error {self._last_error.code}: {self._last_error.description}"
        return reason

    # --- closing ---------------------------------------------------------------------

    async def close(self) -> None:
        """Close the socket; `events` then ends without an `AgentFailed`. Idempotent."""
        if self._closing:
            return
        self._closing = True
        self._stopped = True
        self._ready = False
        self._keepalive_task.cancel()
        await asyncio.wait([self._keepalive_task])
        await self._ws.close()
