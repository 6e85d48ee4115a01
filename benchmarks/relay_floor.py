"""What relaying a call's audio costs in Python before any of frontdesk's own code runs.

Each variant is a bare relay with no application logic: N "calls", each a WebSocket from
a Twilio-like driver (a JSON `media` text message with 160 bytes of base64 mu-law every
20 ms) bridged to a WebSocket on a Deepgram-like sink (160-byte binary frames back every
20 ms, re-encoded as JSON `media` messages for the driver). A call-second is therefore
the same 100 messages in and 100 out through the relay as in `benchmarks.calls`. The
figure is the relay process's CPU (utime + stime) per call-second over a steady window.

Variants, from the most library to the least:

- `library`: uvicorn's WebSocket (websockets-sansio) under a bare ASGI app, and a
  `websockets.asyncio.client` connection upstream: the stack the server ran on until
  2026-11-30, and still runs on for its Twilio side;
- `asgi-sansio`: the same ASGI side; upstream the server's own `AgentSocket`
  (`websockets`' sans-I/O client driven from protocol callbacks, one reading task):
  what the server runs now;
- `sansio-tasks`: `websockets`' sans-I/O protocols on both sides, one task per
  direction pulling messages (no ASGI);
- `sansio-callbacks`: the same protocols, each message relayed inside `data_received`
  (no task wakes up per message);
- `handwritten`: hand-written WebSocket framing, relayed inside `data_received`: about
  the least CPython can do per message (no handshake checks, no UTF-8 or size checks:
  a measuring instrument, not something to serve calls with);
- `picows`: the `picows` library (WebSocket framing in Cython), relayed inside its frame
  callbacks. Not a dependency of the project: run it with `uv run --with picows`.

Each figure comes with the kernel's part of it (the process's stime).

Each call's 20 ms rhythm starts at a random point of the first 20 ms, in both
directions, as independent phone calls do, so messages reach the relay spread over
time. `--aligned` starts every call in step instead: all calls' frames then arrive
together and are read in one wake-up, which flatters every variant by 1-3 ms per
call-second at 20 calls (see "Performance history" in docs/decisions.md).

    uv run python -m benchmarks.relay_floor --calls 20 --seconds 5
    uv run python -m benchmarks.relay_floor --calls 100 --variants sansio-callbacks,handwritten
    uv run --with picows python -m benchmarks.relay_floor --variants handwritten,picows
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import importlib.util
import os
import random
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import msgspec
import uvloop
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.speedups import apply_mask
from websockets.uri import parse_uri

from adapters.deepgram.socket import AgentSocket
from benchmarks.calls import CLK_TCK, free_port, proc_cpu_s

FRAME = b"\xff" * 160
FRAME_S = 0.020
VARIANTS = ("library", "asgi-sansio", "sansio-tasks", "sansio-callbacks", "handwritten", "picows")
_decoder = msgspec.json.Decoder()


def media_text(audio: bytes) -> str:
    payload = base64.b64encode(audio).decode()
    return '{"event":"media","streamSid":"MZ1","media":{"payload":"' + payload + '"}}'


def media_audio(text: str | bytes) -> bytes:
    return base64.b64decode(_decoder.decode(text)["media"]["payload"])


# --- the sink (Deepgram's stand-in) and the driver (Twilio's) ----------------------------


async def start_rhythm(aligned: bool) -> float:
    """Wait for this call's phase in the 20 ms frame period; the first send time."""
    if not aligned:
        await asyncio.sleep(random.random() * FRAME_S)
    return time.monotonic()


async def run_sink(port: int, aligned: bool) -> None:
    async def session(ws: ServerConnection) -> None:
        async def speak() -> None:
            next_at = await start_rhythm(aligned)
            while True:
                await ws.send(FRAME)
                next_at += FRAME_S
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

        speaking = asyncio.create_task(speak())
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass  # the relay is stopped after each measurement without a closing handshake
        finally:
            speaking.cancel()

    async with serve(session, "127.0.0.1", port, compression=None, ping_interval=None):
        await asyncio.Future()


def kernel_cpu_s(pid: int) -> float:
    """stime of `pid` in seconds: the kernel's share (TCP, epoll) of its CPU."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[12]) / CLK_TCK


async def drive(
    url: str, calls: int, seconds: float, relay_pid: int, aligned: bool
) -> tuple[float, float]:
    """Run `calls` calls through the relay; its CPU ms per call-second over a steady
    window, and the kernel's part of that."""
    text = media_text(FRAME)
    started = asyncio.Event()
    stop = asyncio.Event()
    opened = 0

    async def call() -> None:
        nonlocal opened
        async with connect(url, compression=None, ping_interval=None) as ws:
            opened += 1
            if opened == calls:
                started.set()

            async def listen() -> None:
                async for _ in ws:
                    pass

            listening = asyncio.create_task(listen())
            next_at = await start_rhythm(aligned)
            while not stop.is_set():
                await ws.send(text)
                next_at += FRAME_S
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            listening.cancel()

    tasks = [asyncio.create_task(call()) for _ in range(calls)]
    await asyncio.wait_for(started.wait(), 30)
    await asyncio.sleep(1.0)  # let every call settle into its 20 ms rhythm
    cpu0, kernel0, t0 = proc_cpu_s(relay_pid), kernel_cpu_s(relay_pid), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, kernel1, t1 = proc_cpu_s(relay_pid), kernel_cpu_s(relay_pid), time.monotonic()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    call_seconds = (t1 - t0) * calls
    return (cpu1 - cpu0) * 1000 / call_seconds, (kernel1 - kernel0) * 1000 / call_seconds


# --- relays -----------------------------------------------------------------------------

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def asgi_relay(upstream: str, sansio: bool) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})

        async def to_caller(audio: bytes) -> None:
            await send({"type": "websocket.send", "text": media_text(audio)})

        if sansio:  # the server's own Deepgram socket
            agent = await AgentSocket.open(upstream, headers={}, max_size=1 << 20)

            async def pump_socket() -> None:
                async for audio in agent.messages():
                    assert isinstance(audio, bytes)
                    await to_caller(audio)

            agent_pump = asyncio.create_task(pump_socket())
            send_audio: Callable[[bytes], Any] = agent.send_binary
        else:
            ws = await connect(upstream, compression=None, ping_interval=None)

            async def pump() -> None:
                async for audio in ws:
                    assert isinstance(audio, bytes)
                    await to_caller(audio)

            agent_pump = asyncio.create_task(pump())
            send_audio = ws.send
        while (message := await receive())["type"] == "websocket.receive":
            result = send_audio(media_audio(message["text"]))
            if result is not None:
                await result
        agent_pump.cancel()

    return app


class SansIO(asyncio.Protocol):
    """`websockets`' sans-I/O protocol on an asyncio transport; messages either queue for
    `pump` (one task) or go to `sink` inside `data_received`."""

    def __init__(self, protocol: ClientProtocol | ServerProtocol) -> None:
        self.protocol = protocol
        self.inbox: list[str | bytes] = []
        self.waiter: asyncio.Future[None] | None = None
        self.opened = asyncio.get_running_loop().create_future()
        self.sink: Callable[[str | bytes], None] | None = None

    @classmethod
    async def open_client(cls, url: str) -> SansIO:
        uri = parse_uri(url)
        client = cls(ClientProtocol(uri))
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: client, uri.host, uri.port)
        await client.opened
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        if isinstance(self.protocol, ClientProtocol):
            self.protocol.send_request(self.protocol.connect())
            self.write()

    def write(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            else:
                self.transport.close()

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if type(event) is Frame:
                if event.opcode is Opcode.BINARY:
                    self.inbox.append(bytes(event.data))
                elif event.opcode is Opcode.TEXT:
                    self.inbox.append(bytes(event.data).decode())
            elif isinstance(event, Request):
                assert isinstance(protocol, ServerProtocol)
                protocol.send_response(protocol.accept(event))
                self.opened.set_result(None)
            elif isinstance(event, Response):
                self.opened.set_result(None)
        self.write()
        if self.inbox:
            if self.sink is not None:
                inbox, self.inbox = self.inbox, []
                for message in inbox:
                    self.sink(message)
            elif self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def pump(self, handle: Callable[[Any], Awaitable[None] | None]) -> None:
        while not self.transport.is_closing():
            inbox, self.inbox = self.inbox, []
            for message in inbox:
                result = handle(message)
                if result is not None:
                    await result
            if not self.inbox:
                self.waiter = asyncio.get_running_loop().create_future()
                await self.waiter

    def send_binary(self, data: bytes) -> None:
        if self.protocol.state is State.OPEN:  # the far end may be gone at the end of a run
            self.protocol.send_binary(data)
            self.write()

    def send_text(self, text: str) -> None:
        if self.protocol.state is State.OPEN:
            self.protocol.send_text(text.encode())
            self.write()


async def serve_sansio(port: int, upstream: str, callbacks: bool) -> None:
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    def start(coroutine: Coroutine[Any, Any, None]) -> None:
        task = loop.create_task(coroutine)
        running.add(task)
        task.add_done_callback(running.discard)

    async def call(caller: SansIO) -> None:
        await caller.opened
        agent = await SansIO.open_client(upstream)

        def to_caller(audio: str | bytes) -> None:
            assert isinstance(audio, bytes)
            caller.send_text(media_text(audio))

        def to_agent(text: str | bytes) -> None:
            agent.send_binary(media_audio(text))

        if callbacks:
            agent.sink, caller.sink = to_caller, to_agent
            pending, caller.inbox = caller.inbox, []
            for message in pending:
                to_agent(message)
        else:
            start(agent.pump(to_caller))
            await caller.pump(to_agent)

    def accept() -> SansIO:
        caller = SansIO(ServerProtocol())
        start(call(caller))
        return caller

    await loop.create_server(accept, "127.0.0.1", port)
    await asyncio.Future()


class Handwritten(asyncio.Protocol):
    """RFC 6455 framing by hand, unchecked: the measuring stick for the Python floor."""

    def __init__(self, on_message: Callable[[Handwritten, int, bytes], None]) -> None:
        self.buffer = bytearray()
        self.on_message = on_message
        self.is_open = False
        self.pending: list[bytes] = []
        self.peer: Handwritten | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def take_head(self, data: bytes) -> str | None:
        """Buffer `data`; the HTTP head, once whole (None before, and once open)."""
        self.buffer += data
        if self.is_open:
            return None
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).decode()
        del self.buffer[: end + 4]
        return head

    def frames(self) -> list[tuple[int, bytes]]:
        buffer, out = self.buffer, []
        while len(buffer) >= 2:
            length, at = buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    break
                (length,), at = struct.unpack_from("!H", buffer, 2), 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                (length,), at = struct.unpack_from("!Q", buffer, 2), 10
            masked = buffer[1] & 0x80
            end = at + (4 if masked else 0) + length
            if len(buffer) < end:
                break
            data = bytes(buffer[end - length : end])
            if masked:
                data = apply_mask(data, bytes(buffer[at : at + 4]))
            out.append((buffer[0] & 0x0F, data))
            del buffer[:end]
        return out

    def send(self, opcode: int, data: bytes, mask: bool) -> None:
        length = len(data)
        head = bytes([0x80 | opcode])
        bit = 0x80 if mask else 0
        if length < 126:
            head += bytes([bit | length])
        else:
            head += bytes([bit | 126]) + struct.pack("!H", length)
        if mask:
            key = os.urandom(4)
            frame = head + key + apply_mask(data, key)
        else:
            frame = head + data
        if not self.is_open:
            self.pending.append(frame)
        elif not self.transport.is_closing():  # the far end may be gone at the end of a run
            self.transport.write(frame)


def serve_handwritten(port: int, upstream_port: int) -> Coroutine[Any, Any, None]:
    guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    class Caller(Handwritten):
        def data_received(self, data: bytes) -> None:
            head = self.take_head(data)
            if head is not None:
                key = next(
                    line.split(":", 1)[1].strip()
                    for line in head.split("\r\n")
                    if line.lower().startswith("sec-websocket-key")
                )
                accept = base64.b64encode(hashlib.sha1(key.encode() + guid).digest()).decode()
                self.transport.write(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
                )
                self.is_open = True
                agent = Agent(lambda _, __, data: self.send(1, media_text(data).encode(), False))
                self.peer = agent
                loop = asyncio.get_running_loop()
                self.connecting = loop.create_task(
                    loop.create_connection(lambda: agent, "127.0.0.1", upstream_port)
                )
            if not self.is_open:
                return  # the head is not whole yet
            for opcode, payload in self.frames():
                if opcode == 1 and self.peer is not None:
                    self.peer.send(2, media_audio(payload), True)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.peer is not None and hasattr(self.peer, "transport"):
                self.peer.transport.close()

    class Agent(Handwritten):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.transport.write(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )

        def data_received(self, data: bytes) -> None:
            if self.take_head(data) is not None:
                self.is_open = True
                for frame in self.pending:
                    self.transport.write(frame)
            if not self.is_open:
                return  # the head is not whole yet
            for opcode, payload in self.frames():
                if opcode == 2:
                    self.on_message(self, opcode, payload)

        def connection_lost(self, exc: Exception | None) -> None:
            self.is_open = False

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: Caller(lambda *_: None), "127.0.0.1", port)
        await asyncio.Future()

    return main()


async def serve_picows(port: int, upstream: str) -> None:
    """The relay on `picows` (imported here: it is not a dependency of the project)."""
    from picows import (  # type: ignore[import-not-found,unused-ignore]
        WSFrame,
        WSListener,
        WSMsgType,
        WSTransport,
        ws_connect,
        ws_create_server,
    )

    class Agent(WSListener):  # type: ignore[misc]
        def __init__(self, caller: Caller) -> None:
            self.caller = caller

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.BINARY and self.caller.transport is not None:
                text = media_text(frame.get_payload_as_bytes())
                self.caller.transport.send(WSMsgType.TEXT, text.encode())

    class Caller(WSListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.transport: WSTransport | None = None
            self.agent: WSTransport | None = None
            self.connecting: asyncio.Task[None] | None = None

        def on_ws_connected(self, transport: WSTransport) -> None:
            self.transport = transport
            self.connecting = asyncio.get_running_loop().create_task(self.connect())

        async def connect(self) -> None:
            self.agent, _ = await ws_connect(lambda: Agent(self), upstream)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.TEXT and self.agent is not None:
                self.agent.send(WSMsgType.BINARY, media_audio(frame.get_payload_as_bytes()))

    await ws_create_server(lambda _request: Caller(), "127.0.0.1", port)
    await asyncio.Future()


def run_relay(variant: str, port: int, sink_port: int) -> None:
    upstream = f"ws://127.0.0.1:{sink_port}/"
    if variant in ("library", "asgi-sansio"):
        import uvicorn

        app = asgi_relay(upstream, sansio=variant == "asgi-sansio")
        uvicorn.run(app, port=port, loop="uvloop", ws="websockets-sansio", log_level="warning")
    elif variant in ("sansio-tasks", "sansio-callbacks"):
        uvloop.run(serve_sansio(port, upstream, callbacks=variant == "sansio-callbacks"))
    elif variant == "picows":
        uvloop.run(serve_picows(port, upstream))
    else:
        uvloop.run(serve_handwritten(port, sink_port))


# --- main -------------------------------------------------------------------------------


def measure(variant: str, calls: int, seconds: float, aligned: bool) -> tuple[float, float]:
    sink_port, relay_port = free_port(), free_port()
    me = [sys.executable, "-m", "benchmarks.relay_floor"]
    sink = subprocess.Popen(
        [*me, "--serve-sink", str(sink_port), *(["--aligned"] if aligned else [])]
    )
    relay = subprocess.Popen([*me, "--serve-relay", variant, str(relay_port), str(sink_port)])
    try:
        deadline = time.monotonic() + 20
        for port in (sink_port, relay_port):
            while not _listening(port):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{variant}: nothing listens on {port}")
                time.sleep(0.05)
        url = f"ws://127.0.0.1:{relay_port}/twilio/media"
        return uvloop.run(drive(url, calls, seconds, relay.pid, aligned))
    finally:
        for process in (relay, sink):
            process.terminate()
            process.wait(timeout=10)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    installed = [v for v in VARIANTS if v != "picows" or importlib.util.find_spec("picows")]
    parser.add_argument(
        "--variants", default=",".join(installed), help="default: all (picows if installed)"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--aligned", action="store_true", help="start every call's 20 ms rhythm in step"
    )
    parser.add_argument("--serve-sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-relay", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sink is not None:
        uvloop.run(run_sink(args.serve_sink, args.aligned))
        return
    if args.serve_relay is not None:
        variant, port, sink_port = args.serve_relay
        run_relay(variant, int(port), int(sink_port))
        return
    print(f"command: uv run python -m benchmarks.relay_floor {' '.join(sys.argv[1:])}".rstrip())
    print(
        f"relay CPU per call-second (ms), {args.calls} calls x {args.seconds:g} s steady,"
        f" {'calls in step' if args.aligned else 'calls at random phases'}"
        " (in brackets: the kernel's part, stime):"
    )
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
        figures = [
            measure(variant, args.calls, args.seconds, args.aligned) for _ in range(args.repeat)
        ]
        shown = "  ".join(f"{total:5.2f} ({kernel:4.2f})" for total, kernel in figures)
        print(f"  {variant:<17} {shown}")


if __name__ == "__main__":
    main()
