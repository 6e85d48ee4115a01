"""`AgentSocket` over TLS (`wss://`, as Deepgram is reached in production), against a
real TLS WebSocket server whose certificate comes from a throwaway CA (trustme). The
socket trusts what the process trusts: the tests point `SSL_CERT_FILE` at the CA."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.server import Server, ServerConnection, serve

from adapters.deepgram import DeepgramVoiceAgent
from adapters.deepgram.socket import AgentSocket
from application.ports import TELEPHONE_AUDIO
from application.ports.voice import AgentUnavailable
from tests.support.agent_profile import a_profile

KEY = "tls-test-key"
BOUND_S = 5.0


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process trusts the throwaway CA (and nothing else), as it would a public one."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


async def echo_then_close(ws: ServerConnection) -> None:
    """Answers each message with itself; a message "bye" closes with 1000."""
    async for message in ws:
        if message == "bye":
            await ws.close(1000, "done")
            return
        await ws.send(message)


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[Server]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    async with serve(echo_then_close, "localhost", 0, ssl=context) as server:
        yield server


def url_of(server: Server) -> str:
    port = next(iter(server.sockets)).getsockname()[1]
    return f"wss://localhost:{port}/v1/agent/converse"


async def open_socket(url: str) -> AgentSocket:
    async with asyncio.timeout(BOUND_S):
        return await AgentSocket.open(
            url, headers={"Authorization": f"Token {KEY}"}, max_size=1 << 20
        )


async def next_message(socket: AgentSocket, messages: AsyncIterator[str | bytes]) -> str | bytes:
    async with asyncio.timeout(BOUND_S):
        return await anext(messages)


@pytest.mark.usefixtures("trusted")
async def test_messages_go_both_ways_over_tls_and_the_close_handshake_completes(
    tls_server: Server,
) -> None:
    socket = await open_socket(url_of(tls_server))
    messages = aiter(socket.messages())
    socket.send_text(b'{"type":"KeepAlive"}')
    assert await next_message(socket, messages) == '{"type":"KeepAlive"}'
    socket.send_binary(b"\xff" * 160)
    assert await next_message(socket, messages) == b"\xff" * 160
    socket.send_text(b"bye")  # the server closes: 1000, then TLS and TCP
    async with asyncio.timeout(BOUND_S):
        assert [m async for m in messages] == []
    assert (socket.close_code, socket.close_reason) == (1000, "done")
    assert socket.aborted_reason is None


@pytest.mark.usefixtures("trusted")
async def test_our_close_over_tls_ends_cleanly(tls_server: Server) -> None:
    socket = await open_socket(url_of(tls_server))
    async with asyncio.timeout(BOUND_S):
        await socket.close()
    assert socket.close_code == 1000
    assert socket.aborted_reason is None
    assert not socket.is_open


async def test_a_certificate_we_do_not_trust_is_refused(
    tls_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = trustme.CA()  # the process trusts another CA than the server's
    bundle = tmp_path / "other-ca.pem"
    stranger.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with pytest.raises(ssl.SSLCertVerificationError):
        await open_socket(url_of(tls_server))
    with pytest.raises(AgentUnavailable, match="Deepgram unreachable: SSLCertVerificationError"):
        await DeepgramVoiceAgent(url_of(tls_server), KEY).connect(a_profile(), TELEPHONE_AUDIO)


@pytest.mark.usefixtures("trusted")
async def test_a_name_the_certificate_does_not_cover_is_refused(tls_server: Server) -> None:
    port = next(iter(tls_server.sockets)).getsockname()[1]
    with pytest.raises(ssl.SSLCertVerificationError):
        await open_socket(f"wss://127.0.0.1:{port}/")  # the certificate names localhost
