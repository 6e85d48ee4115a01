"""`AgentSocket` at its edges, against real servers on real ports.

Well-behaved peers are `websockets`' own server; misbehaving ones are
`tests.support.raw_websocket.RawServer`, whose handshake and frames are whatever bytes
a test writes. Timeouts are the socket's keyword parameters, set small.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.http11 import Request, Response

from adapters.deepgram import DeepgramAgentConnection, DeepgramVoiceAgent
from adapters.deepgram.socket import AgentSocket, Message
from application.ports import TELEPHONE_AUDIO
from application.ports.voice import AgentFailed, AgentReady, AgentUnavailable
from tests.support.agent_profile import a_profile
from tests.support.raw_websocket import (
    BINARY,
    BOUND_S,
    CONT,
    PING,
    PONG,
    TEXT,
    Peer,
    RawServer,
    close_frame,
    frame,
)

KEY = "socket-test-key-9f3a"

T = TypeVar("T")


async def open_socket(url: str, **options: Any) -> AgentSocket:
    options.setdefault("max_size", 1 << 20)
    return await AgentSocket.open(url, headers={"Authorization": f"Token {KEY}"}, **options)


async def connected(server: RawServer, **options: Any) -> tuple[AgentSocket, Peer]:
    """A socket open to `server`, and the server's end of it."""
    opening = asyncio.create_task(open_socket(server.url, **options))
    peer = await server.peer()
    await peer.accept()
    async with asyncio.timeout(BOUND_S):
        return await opening, peer


async def all_messages(socket: AgentSocket) -> list[Message]:
    """What `messages()` yields until it ends (which it must, within the bound)."""
    async with asyncio.timeout(BOUND_S):
        return [message async for message in socket.messages()]


async def settled(future: asyncio.Future[T]) -> T:
    async with asyncio.timeout(BOUND_S):
        return await future


@pytest.fixture(autouse=True)
async def quiet_loop(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Every test: nothing reaches the loop's exception handler, asyncio logs no
    warning (such as writes to a lost transport), and no task is left running."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    caplog.set_level(logging.WARNING, logger="asyncio")
    before = asyncio.all_tasks() - {asyncio.current_task()}
    try:
        yield
        assert errors == []
        logged = caplog.get_records("setup") + caplog.get_records("call")
        assert [r.getMessage() for r in logged if r.name == "asyncio"] == []
        assert asyncio.all_tasks() - {asyncio.current_task()} <= before
    finally:
        loop.set_exception_handler(previous)


# --- 1. the opening handshake ------------------------------------------------------------


@pytest.mark.parametrize("credentials", ["", "user:secret@"])
async def test_the_handshake_carries_the_token_once_and_a_user_agent(credentials: str) -> None:
    seen: list[Request] = []

    def record(_: ServerConnection, request: Request) -> None:
        seen.append(request)

    async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=record) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        socket = await open_socket(f"ws://{credentials}127.0.0.1:{port}/v1/agent/converse")
        await socket.close()
    [request] = seen
    assert request.path == "/v1/agent/converse"
    # Credentials in the URL would add a Basic Authorization: the token replaces it.
    assert request.headers.get_all("Authorization") == [f"Token {KEY}"]
    assert "websockets" in request.headers["User-Agent"]


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN])
async def test_an_http_refusal_raises_invalid_status(status: HTTPStatus) -> None:
    def refuse(ws: ServerConnection, _: Request) -> Response:
        return ws.respond(status, "no\n")

    async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=refuse) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with asyncio.timeout(BOUND_S):
            with pytest.raises(InvalidStatus) as raised:
                await open_socket(f"ws://127.0.0.1:{port}")
    assert raised.value.response.status_code == status


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN])
async def test_a_refused_connect_is_unavailable_naming_the_status_never_the_key(
    status: HTTPStatus, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(ws: ServerConnection, _: Request) -> Response:
        return ws.respond(status, f"bad key {KEY}\n")

    caplog.set_level(logging.DEBUG, logger="adapters")
    async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=refuse) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        agent = DeepgramVoiceAgent(f"ws://127.0.0.1:{port}", KEY)
        with pytest.raises(AgentUnavailable, match=f"HTTP {status.value}") as raised:
            await agent.connect(a_profile(), TELEPHONE_AUDIO)
    assert KEY not in str(raised.value)
    assert raised.value.__cause__ is None
    # Ours only: websockets' debug log shows the request's headers (the redacting log
    # configuration of entrypoints.observability removes the key from those).
    assert not [
        r for r in caplog.records if r.name.startswith("adapters") and KEY in r.getMessage()
    ]


@pytest.mark.parametrize(
    "answer",
    [
        b"",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: webso",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
    ],
    ids=["nothing", "half a response", "half a body"],
)
async def test_a_peer_closing_mid_handshake_raises_instead_of_hanging(answer: bytes) -> None:
    async with RawServer() as server:
        await answer_the_handshake(server, answer, hang_up=True)


async def answer_the_handshake(server: RawServer, answer: bytes, *, hang_up: bool) -> Peer:
    """Open a socket to `server`, which answers `answer` (then hangs up if told to);
    the opening must fail with `InvalidHandshake` within the bound."""
    opening = asyncio.create_task(open_socket(server.url))
    peer = await server.peer()
    await peer.read_request()
    peer.write(answer)
    if hang_up:
        peer.writer.close()
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(InvalidHandshake):
            await opening
    return peer


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"\x00\xff\xfe garbage \r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: d3Jvbmc=\r\n\r\n",
    ],
    ids=["not http", "binary", "no upgrade headers", "wrong accept key"],
)
async def test_a_garbage_answer_raises_at_once_while_the_peer_stays(answer: bytes) -> None:
    async with RawServer() as server:
        peer = await answer_the_handshake(server, answer, hang_up=False)
        assert await peer.read_to_end() == b""  # and we hung up


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    answer=st.one_of(
        st.binary(max_size=200),
        st.lists(
            st.sampled_from(
                [
                    b"HTTP/1.1 ",
                    b"101 ",
                    b"Switching Protocols",
                    b"\r\n",
                    b"Upgrade: websocket",
                    b"Connection: Upgrade",
                    b"Sec-WebSocket-Accept: ",
                    b"Content-Length: 3",
                    b"\x81\x02hi",
                    b":",
                    b" ",
                    b"\xff",
                ]
            ),
            max_size=12,
        ).map(b"".join),
    )
)
async def test_any_answer_then_a_hang_up_ends_the_opening_with_invalid_handshake(
    answer: bytes,
) -> None:
    async with RawServer() as server:
        await answer_the_handshake(server, answer, hang_up=True)


@pytest.mark.parametrize(
    "url", ["http://agent.example", "not a url", "ws://", "ws://host:99999", "wss://[::1"]
)
async def test_a_bad_url_raises_invalid_uri(url: str) -> None:
    with pytest.raises(InvalidURI):
        await open_socket(url)


async def test_a_bad_url_makes_connect_unavailable() -> None:
    with pytest.raises(AgentUnavailable, match="InvalidURI"):
        await DeepgramVoiceAgent("ws://agent.example:99999", KEY).connect(
            a_profile(), TELEPHONE_AUDIO
        )


# --- 2. messages -------------------------------------------------------------------------


async def test_text_arrives_as_str_and_binary_as_bytes_in_order() -> None:
    sent: list[Message] = ["first", b"\x00\x01\xff", "second é ✓", b"", "", b"\x02" * 70_000]

    async def talk(ws: ServerConnection) -> None:
        for message in sent:
            await ws.send(message)
        await ws.close()

    async with serve(talk, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        socket = await open_socket(f"ws://127.0.0.1:{port}")
        received = await all_messages(socket)
    assert received == sent
    assert [type(message) for message in received] == [type(message) for message in sent]
    assert socket.close_code == 1000


async def test_fragmented_messages_arrive_whole() -> None:
    text = "héllo wörld ✓".encode()
    async with RawServer() as server:
        socket, peer = await connected(server)
        peer.write(frame(TEXT, text[:2], fin=False))  # splits the "é" in two
        peer.write(frame(CONT, text[2:9], fin=False))
        peer.write(frame(PING, b"mid"))  # a control frame may come between fragments
        peer.write(frame(CONT, text[9:]))
        peer.write(frame(BINARY, b"\x01\x02", fin=False) + frame(CONT, b"\x03", fin=False))
        peer.write(frame(CONT, b"\x04"))
        peer.write(frame(TEXT, b"after"))
        peer.write(close_frame(1000))
        assert await peer.read_frame() == (PONG, b"mid")
        assert await peer.read_close_code() == 1000
        peer.writer.close()
        assert await all_messages(socket) == ["héllo wörld ✓", b"\x01\x02\x03\x04", "after"]


async def test_many_messages_in_one_write_all_arrive_in_order() -> None:
    # More than the socket's unread-message limit, so it stops and resumes reading.
    sent = [f"message {n}" if n % 3 else n.to_bytes(2, "big") for n in range(1000)]
    async with RawServer() as server:
        opening = asyncio.create_task(open_socket(server.url))
        peer = await server.peer()
        await peer.read_request()
        burst = b"".join(
            frame(TEXT, m.encode()) if isinstance(m, str) else frame(BINARY, m) for m in sent
        )
        peer.write(peer.handshake_response() + burst + close_frame(1000))  # one write
        async with asyncio.timeout(BOUND_S):
            socket = await opening
        assert await all_messages_then_hang_up(socket, peer) == sent
    assert socket.close_code == 1000


async def all_messages_then_hang_up(socket: AgentSocket, peer: Peer) -> list[Message]:
    """Read `socket` to its end while `peer` answers the close and closes TCP."""

    async def hang_up() -> None:
        await peer.read_close_code()
        peer.writer.close()

    async with asyncio.TaskGroup() as group:
        group.create_task(hang_up())
        received = group.create_task(all_messages(socket))
    return received.result()


# --- 3. and 4. frames the socket refuses -------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        frame(TEXT, b"ok \xff\xfe"),
        frame(TEXT, b"\xe2\x9c", fin=False) + frame(CONT, b"!"),  # a broken "✓" across fragments
        frame(TEXT, "✓".encode()[:2]),  # truncated at the end
    ],
    ids=["bad bytes", "across fragments", "truncated"],
)
async def test_invalid_utf8_fails_the_connection_with_1007(bad: bytes) -> None:
    async with RawServer() as server:
        socket, peer = await connected(server)
        # What follows the bad frame, in the same write, must not be delivered.
        peer.write(frame(TEXT, b"before") + bad + frame(TEXT, b"after") + frame(BINARY, b"x"))
        assert await peer.read_close_code() == 1007
        assert not socket.is_open
        peer.write(close_frame(1007))
        peer.writer.close()
        assert await all_messages(socket) == ["before"]
    assert socket.close_code == 1006  # the peer's echo came after we failed: not read


@pytest.mark.parametrize(
    "big",
    [
        frame(BINARY, b"\x00" * 1025),
        frame(TEXT, b"a" * 600, fin=False) + frame(CONT, b"a" * 600),
    ],
    ids=["one frame", "fragments"],
)
async def test_a_message_over_max_size_closes_with_1009(big: bytes) -> None:
    async with RawServer() as server:
        socket, peer = await connected(server, max_size=1024)
        peer.write(frame(BINARY, b"\x00" * 1024) + big + frame(TEXT, b"after"))
        assert await peer.read_close_code() == 1009
        peer.writer.close()
        assert await all_messages(socket) == [b"\x00" * 1024]
    assert socket.close_code == 1006


async def test_a_failed_connection_whose_peer_stays_is_dropped_after_the_close_timeout() -> None:
    async with RawServer() as server:
        socket, peer = await connected(server, close_timeout_s=0.1)
        peer.write(frame(TEXT, b"\xff"))
        assert await peer.read_close_code() == 1007
        assert await all_messages(socket) == []  # the peer never closes: we do
        assert socket.aborted_reason == "the service did not close the connection"
        assert await peer.read_to_end() == b""


async def test_a_peer_that_closes_but_keeps_tcp_open_is_dropped_after_the_close_timeout() -> None:
    async with RawServer() as server:
        socket, peer = await connected(server, close_timeout_s=0.1)
        peer.write(frame(TEXT, b"bye") + close_frame(1001, "going away"))
        assert await peer.read_close_code() == 1001  # our echo; TCP stays open
        assert await all_messages(socket) == ["bye"]
        assert socket.aborted_reason == "the service did not close the connection"
        assert (socket.close_code, socket.close_reason) == (1001, "going away")
        assert await peer.read_to_end() == b""


# --- 5. pings ----------------------------------------------------------------------------


async def test_the_servers_ping_gets_a_pong_while_nobody_reads() -> None:
    ponged: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def ping(ws: ServerConnection) -> None:
        waiter = await ws.ping(b"are you there")
        ponged.set_result(await waiter)
        await ws.wait_closed()

    async with serve(ping, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        socket = await open_socket(f"ws://127.0.0.1:{port}")
        assert await settled(ponged) >= 0
        await socket.close()


async def test_a_peer_that_answers_our_pings_keeps_the_connection() -> None:
    async with RawServer() as server:
        socket, peer = await connected(server, ping_interval_s=0.02, ping_timeout_s=1.0)
        payloads = set()
        for _ in range(5):  # the next ping goes out only once the last one's pong came
            opcode, payload = await peer.read_frame()
            assert opcode == PING
            payloads.add(payload)
            peer.write(frame(PONG, payload))
        assert len(payloads) == 5  # each ping its own
        assert socket.is_open
        assert socket.aborted_reason is None
        closing = asyncio.create_task(socket.close())
        assert await peer.read_close_code() == 1000
        peer.write(close_frame(1000))
        peer.writer.close()
        await closing
        assert socket.close_code == 1000


async def test_a_peer_that_never_answers_our_ping_is_dropped() -> None:
    interval_s, timeout_s = 0.05, 0.15
    loop = asyncio.get_running_loop()
    async with RawServer() as server:
        started = loop.time()  # the timers start later, in `open`
        socket, peer = await connected(server, ping_interval_s=interval_s, ping_timeout_s=timeout_s)
        opcode, _ = await peer.read_frame()
        assert opcode == PING
        assert loop.time() - started >= interval_s
        assert await all_messages(socket) == []
        ended_after_s = loop.time() - started
        assert interval_s + timeout_s <= ended_after_s < interval_s + timeout_s + 1.0
        assert socket.aborted_reason == "no pong within 0.15 s"
        assert socket.close_code == 1006
        assert await peer.read_to_end() == b""  # the one ping was all


# --- 6. close() --------------------------------------------------------------------------


async def test_close_completes_the_closing_handshake() -> None:
    code: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    async def record(ws: ServerConnection) -> None:
        await ws.wait_closed()
        code.set_result(ws.close_code)

    async with serve(record, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        socket = await open_socket(f"ws://127.0.0.1:{port}")
        await socket.close()
        assert socket.close_code == 1000
        assert socket.aborted_reason is None
        assert not socket.is_open
        await socket.close()  # idempotent
        assert await settled(code) == 1000


async def test_close_completes_while_many_messages_lie_unread() -> None:
    # Past the unread-message limit the socket stops reading; closing must read again,
    # or it would never see the peer's answer and abort.
    unread = [frame(BINARY, bytes([n % 256]) * 160) for n in range(1000)]
    async with RawServer() as server:
        socket, peer = await connected(server, close_timeout_s=BOUND_S)
        peer.write(b"".join(unread))
        closing = asyncio.create_task(socket.close())
        assert await peer.read_close_code() == 1000
        peer.write(close_frame(1000))
        peer.writer.close()
        async with asyncio.timeout(BOUND_S - 1):
            await closing
        assert socket.aborted_reason is None
        assert socket.close_code == 1000
        received = await all_messages(socket)
        assert received == [bytes([n % 256]) * 160 for n in range(1000)]


async def test_close_returns_within_the_timeout_when_the_peer_never_answers() -> None:
    loop = asyncio.get_running_loop()
    async with RawServer() as server:
        socket, peer = await connected(server, close_timeout_s=0.1)
        started = loop.time()
        closing = asyncio.create_task(socket.close())
        assert await peer.read_close_code() == 1000  # read, never answered
        async with asyncio.timeout(BOUND_S):
            await closing
        assert 0.1 <= loop.time() - started < 1.0
        assert socket.aborted_reason == "the service did not close the connection"
        assert await socket.wait_closed(0)
        assert await peer.read_to_end() == b""  # the TCP connection is gone


# --- 7. a peer that stops reading --------------------------------------------------------


async def test_a_peer_that_stops_reading_is_dropped_once_the_buffer_is_full() -> None:
    limit = 256 * 1024
    chunk = b"\x7f" * 16_000
    async with RawServer() as server:
        socket, peer = await connected(server, max_write_buffer_bytes=limit)
        peer.writer.transport.pause_reading()  # type: ignore[attr-defined]
        sent = 0
        while socket.aborted_reason is None:
            socket.send_binary(chunk)  # never raises, never waits
            sent += len(chunk)
            assert sent < 1 << 30, "the socket never noticed the peer stopped reading"
        assert sent > limit
        assert socket.aborted_reason.startswith("the service stopped reading")
        for _ in range(10):  # between the abort and the loop noticing: still quiet
            socket.send_binary(chunk)
            socket.send_text(b"{}")
        assert await all_messages(socket) == []
        assert socket.close_code == 1006


# --- 8. a peer that drops TCP ------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_a_peer_dropping_tcp_ends_the_messages_with_1006(how: str) -> None:
    async with RawServer() as server:
        socket, peer = await connected(server)
        peer.write(frame(TEXT, b"last words"))
        await peer.writer.drain()
        if how == "close":
            peer.writer.close()
        else:
            peer.writer.transport.abort()
        assert await all_messages(socket) == ["last words"]
        assert socket.close_code == 1006
        assert not socket.is_open
        assert socket.aborted_reason is None
        for _ in range(10):
            socket.send_binary(b"\x00" * 160)
            socket.send_text(b'{"type":"KeepAlive"}')
        async with asyncio.timeout(BOUND_S):
            await socket.close()
        assert socket.aborted_reason is None


# --- 9. the agent connection once its socket has ended -----------------------------------


async def sends_do_nothing(connection: DeepgramAgentConnection) -> None:
    await connection.send_audio(b"\x7f" * 160)
    await connection.send_tool_result("call-1", "find_open_slots", "{}")
    await connection.inject_message("Goodbye!")


@pytest.mark.parametrize(
    ("ending", "reason"),
    [
        ("drop", "Deepgram closed the conversation (code 1006)"),
        ("close", "Deepgram closed the conversation (code 1011, 'overloaded')"),
        ("silence", "Deepgram connection dropped: no pong within 0.1 s"),
        ("stop reading", "Deepgram connection dropped: the service stopped reading ("),
    ],
)
async def test_after_the_socket_ends_sends_do_nothing_and_one_failure_names_why(
    ending: str, reason: str
) -> None:
    options: dict[str, Any] = {"max_write_buffer_bytes": 128 * 1024}
    if ending == "silence":  # the peer never answers our ping
        options |= {"ping_interval_s": 0.05, "ping_timeout_s": 0.1}
    async with RawServer() as server:
        socket, peer = await connected(server, **options)
        connection = DeepgramAgentConnection(
            socket, request_id="r-1", keepalive_interval_s=60.0, audio_buffer_limit_bytes=1600
        )
        events = connection.events()
        peer.write(frame(TEXT, b'{"type":"SettingsApplied"}'))
        async with asyncio.timeout(BOUND_S):
            assert await anext(events) == AgentReady()  # audio now goes straight out
        if ending == "drop":
            peer.writer.transport.abort()
        elif ending == "close":
            peer.write(close_frame(1011, "overloaded"))
            assert await peer.read_close_code() == 1011
            peer.writer.close()
        elif ending == "stop reading":
            peer.writer.transport.pause_reading()  # type: ignore[attr-defined]
            while socket.aborted_reason is None:
                await connection.send_audio(b"\x7f" * 16_000)
        async with asyncio.timeout(BOUND_S):
            rest = [event async for event in events]
        assert len(rest) == 1
        [failure] = rest
        assert isinstance(failure, AgentFailed)
        assert failure.reason.startswith(reason)
        assert KEY not in failure.reason
        await sends_do_nothing(connection)
        await connection.close()
        async with asyncio.timeout(BOUND_S):
            assert [event async for event in connection.events()] == []  # no second failure
