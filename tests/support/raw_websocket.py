"""A WebSocket server written by hand, for tests of a client against peers that misbehave.

`RawServer` accepts TCP connections and hands each to the test as a `Peer`, which reads
the client's request and frames and writes whatever bytes the test wants: a proper
handshake answer (`accept`), frames built with `frame`, garbage, or nothing at all.

    async with RawServer() as server:
        opening = asyncio.create_task(client_open(server.url))
        peer = await server.peer()
        await peer.accept()
        peer.write(frame(TEXT, b"hello") + close_frame(1000))
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Self

BOUND_S = 5.0
"""Upper bound on anything a peer awaits: a hang fails the test instead of stalling it."""

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True) -> bytes:
    """A server's frame (unmasked), as RFC 6455 section 5.2 lays it out."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + size.to_bytes(2, "big")
    else:
        head += bytes([127]) + size.to_bytes(8, "big")
    return head + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(CLOSE, code.to_bytes(2, "big") + reason.encode())


class Peer:
    """The server's end of one TCP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.request_headers: dict[str, str] = {}

    async def read_request(self) -> None:
        async with asyncio.timeout(BOUND_S):
            head = await self.reader.readuntil(b"\r\n\r\n")
        for line in head.decode().split("\r\n")[1:]:
            if line:
                name, _, value = line.partition(":")
                self.request_headers[name.strip().lower()] = value.strip()

    def handshake_response(self) -> bytes:
        key = self.request_headers["sec-websocket-key"]
        digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        return (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + base64.b64encode(digest) + b"\r\n\r\n"
        )

    async def accept(self) -> None:
        await self.read_request()
        self.write(self.handshake_response())

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    async def read_frame(self) -> tuple[int, bytes]:
        """The client's next frame: (opcode, unmasked payload)."""
        async with asyncio.timeout(BOUND_S):
            first, second = await self.reader.readexactly(2)
            assert second & 0x80, "a client's frames are masked"
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(await self.reader.readexactly(2), "big")
            elif size == 127:
                size = int.from_bytes(await self.reader.readexactly(8), "big")
            mask = await self.reader.readexactly(4)
            data = await self.reader.readexactly(size)
        return first & 0x0F, bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))

    async def read_close_code(self) -> int:
        """Skip to the client's close frame; its code."""
        while True:
            opcode, payload = await self.read_frame()
            if opcode == CLOSE:
                return int.from_bytes(payload[:2], "big")

    async def read_to_end(self) -> bytes:
        """Everything until the client is gone (FIN or RST)."""
        async with asyncio.timeout(BOUND_S):
            try:
                return await self.reader.read()
            except ConnectionResetError:
                return b""


class RawServer:
    """`asyncio.start_server` handing each accepted connection to the test as a `Peer`."""

    def __init__(self) -> None:
        self._accepted: asyncio.Queue[Peer] = asyncio.Queue()
        self._peers: list[Peer] = []

    async def __aenter__(self) -> Self:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peer = Peer(reader, writer)
            self._peers.append(peer)
            self._accepted.put_nowait(peer)

        self._server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/v1/agent/converse"
        return self

    async def __aexit__(self, *_: object) -> None:
        for peer in self._peers:
            peer.writer.transport.abort()
        self._server.close()
        await self._server.wait_closed()

    async def peer(self) -> Peer:
        async with asyncio.timeout(BOUND_S):
            return await self._accepted.get()
