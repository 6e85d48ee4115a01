"""The floor of a call's set-up CPU on this stack: the same libraries as the server, doing
only the protocol work one short call must do, with none of frontdesk's code.

    uv run python -m benchmarks.setup_floor --calls 200
    uv run python -m benchmarks.setup_floor --calls 200 --orm --rounds 3
    uv run python -m benchmarks.setup_floor --calls 200 --orm --rounds 3 --frames 0
    uv run python -m benchmarks.setup_floor --calls 100 --orm --rounds 3 --paced --no-callbacks

Processes (127.0.0.1): a throwaway Postgres; a bare echo agent (`websockets`' asyncio
server: it answers the settings message, then sends every binary message back); this
driver; and, one at a time, a bare server per layer. The server runs on uvicorn as
frontdesk's does (uvloop, httptools, websockets-sansio, `server_header=False`,
`date_header=True`, `proxy_headers=True`, `ws_max_size` 64 KiB, start-up objects frozen
out of the garbage collector's reach): a Litestar app with no middleware for the HTTP
routes, and the media stream on bare ASGI in front of it, as frontdesk serves it.

One call, with no wait between the steps:
1. POST /voice, a signed form as Twilio's (the signature is checked) -> TwiML <Connect>;
2. WS /media, signed handshake: `connected`, `start`, 25 media frames (0.5 s of audio,
   sent at once unless `--paced`) each answered with one media message, `stop`, close;
3. POST /after-stream -> TwiML <Hangup>; POST /status -> 204 (not with `--no-callbacks`).
`--paced --no-callbacks` is the shape of `benchmarks.greeting`'s calls (whose agent also
speaks a greeting); `--frames 0` leaves set-up and teardown alone.

The layers, each adding to the one before (a new server process each):
- `http`: the POSTs only (form parsing, signature, TwiML);
- `ws`: + the media stream; the server sends each frame back to the caller itself;
- `agent`: + a client WebSocket (`websockets.asyncio.client`) to the echo agent per call:
  one JSON settings message and its reply, then the frames go through the agent;
- `db`: + one transaction per step on SQLAlchemy Core and asyncpg (insert the call on
  the voice webhook; update it on `start`, at the stream's end, and on the status
  callback);
- `db-orm` (with `--orm`): the same through the ORM (add; get, then set attributes).

Figures per layer: the server's CPU per call (utime + stime from /proc/<pid>/stat, over
`--calls` calls after `--warmup` unmeasured ones; the kernel's part, stime, in
brackets), the unmeasured calls' average (the first calls of a fresh process), and
Postgres's own CPU per call (its cluster's processes). /proc counts clock ticks (10 ms):
200 calls keep that within a few percent. The CPU used meanwhile by other processes is
shown too: CPU time per call rises when the machine is busy.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import hashlib
import hmac
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol, cast
from xml.sax.saxutils import quoteattr

import httpx
import msgspec
from litestar import Litestar, MediaType, Request, Response, post
from sqlalchemy import DateTime, Integer, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from tests.support.twilio_simulator import (
    CallIdentity,
    SimulatedCall,
    call_params,
    new_call,
    parse_twiml,
    post_signed,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from benchmarks.calls import CLK_TCK, ROOT, free_port, machine_ticks, proc_cpu_s, tree_cpu_s

AUTH_TOKEN = "floor-twilio-auth-token"
AGENT_KEY = "floor-agent-key"
FRAMES = 25
"""0.5 s of caller audio at 20 ms a frame."""
FRAME = b"\x7f" * 160
WS_MAX_SIZE = 64 * 1024
"""As `entrypoints.commands.MAX_WS_MESSAGE_BYTES`."""
LAYERS = ("http", "ws", "agent", "db", "db-orm")
BUILDS_ON = {"ws": "http", "agent": "ws", "db": "agent", "db-orm": "agent"}
DATABASE_LAYERS = ("db", "db-orm")
SETTINGS = {
    "type": "Settings",
    "audio": {
        "input": {"encoding": "mulaw", "sample_rate": 8000},
        "output": {"encoding": "mulaw", "sample_rate": 8000, "container": "none"},
    },
    "agent": {
        "language": "en",
        "listen": {"provider": {"type": "deepgram", "model": "nova-3"}},
        "think": {
            "provider": {"type": "open_ai", "model": "gpt-4o-mini"},
            "prompt": "You are the receptionist of a dental practice. " * 30,
        },
        "speak": {"provider": {"type": "deepgram", "model": "aura-2-thalia-en"}},
        "greeting": "Hello, you have reached the practice. How can I help?",
    },
}
"""A settings message of the size of a real one (~1.8 KB)."""

_decode = msgspec.json.decode
_encode = msgspec.json.encode


def twilio_signature_ok(url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1 of the URL and the sorted fields."""
    if signature is None:
        return False
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.encode())


def media_text(stream_sid: str, audio: bytes) -> str:
    payload = base64.b64encode(audio).decode()
    return (
        '{"event":"media","streamSid":"' + stream_sid + '","media":{"payload":"' + payload + '"}}'
    )


# --- the database ----------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Call(Base):
    __tablename__ = "floor_calls"
    call_sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    stream_sid: Mapped[str | None] = mapped_column(String(34))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[int | None] = mapped_column(Integer)


class Store(Protocol):
    """The four writes of a call, one transaction each."""

    async def ringing(self, call_sid: str, from_number: str, to_number: str) -> None: ...
    async def streaming(self, call_sid: str, stream_sid: str) -> None: ...
    async def ended(self, call_sid: str) -> None: ...
    async def reported(self, call_sid: str, status: str, duration_s: int | None) -> None: ...


class CoreStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine, self._calls = engine, cast(Table, Call.__table__)

    async def ringing(self, call_sid: str, from_number: str, to_number: str) -> None:
        statement = self._calls.insert().values(
            call_sid=call_sid, from_number=from_number, to_number=to_number, status="ringing"
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def _update(self, call_sid: str, **values: Any) -> None:
        calls = self._calls
        statement = calls.update().where(calls.c.call_sid == call_sid).values(**values)
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def streaming(self, call_sid: str, stream_sid: str) -> None:
        now = datetime.now(UTC)
        await self._update(call_sid, stream_sid=stream_sid, status="streaming", answered_at=now)

    async def ended(self, call_sid: str) -> None:
        await self._update(call_sid, status="ended", ended_at=datetime.now(UTC))

    async def reported(self, call_sid: str, status: str, duration_s: int | None) -> None:
        await self._update(call_sid, status=status, duration_s=duration_s)


class OrmStore:
    def __init__(self, engine: AsyncEngine) -> None:
        # as frontdesk's sessions: nothing reloaded after a commit, no flush before a query
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    async def ringing(self, call_sid: str, from_number: str, to_number: str) -> None:
        async with self._sessions.begin() as session:
            session.add(
                Call(
                    call_sid=call_sid,
                    from_number=from_number,
                    to_number=to_number,
                    status="ringing",
                )
            )

    async def _update(self, call_sid: str, **values: Any) -> None:
        async with self._sessions.begin() as session:
            call = await session.get(Call, call_sid)
            for name, value in values.items():
                setattr(call, name, value)

    async def streaming(self, call_sid: str, stream_sid: str) -> None:
        now = datetime.now(UTC)
        await self._update(call_sid, stream_sid=stream_sid, status="streaming", answered_at=now)

    async def ended(self, call_sid: str) -> None:
        await self._update(call_sid, status="ended", ended_at=datetime.now(UTC))

    async def reported(self, call_sid: str, status: str, duration_s: int | None) -> None:
        await self._update(call_sid, status=status, duration_s=duration_s)


# --- the bare server -------------------------------------------------------------------

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class ServerPlan:
    port: int
    layer: str
    agent_url: str
    database_url: str

    @property
    def agent(self) -> bool:
        return self.layer in ("agent", "db", "db-orm")

    @property
    def database(self) -> bool:
        return self.layer in DATABASE_LAYERS


def bare_app(plan: ServerPlan) -> ASGIApp:
    base = f"http://127.0.0.1:{plan.port}"
    stream_url = f"ws://127.0.0.1:{plan.port}/media"
    store: Store | None = None
    engine: AsyncEngine | None = None
    if plan.database:
        engine = create_async_engine(plan.database_url)
        store = OrmStore(engine) if plan.layer == "db-orm" else CoreStore(engine)

    async def create_table() -> None:
        if engine is not None:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)

    async def dispose() -> None:
        if engine is not None:
            await engine.dispose()

    async def signed_form(request: Request[Any, Any, Any]) -> dict[str, str] | None:
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        signature = request.headers.get("x-twilio-signature")
        return params if twilio_signature_ok(base + request.url.path, params, signature) else None

    def xml(body: str) -> Response[str]:
        return Response(body, media_type=MediaType.XML)

    @post("/voice", status_code=200)
    async def voice(request: Request[Any, Any, Any]) -> Response[str]:
        form = await signed_form(request)
        if form is None:
            return Response("", status_code=403)
        call_sid = form["CallSid"]
        if store is not None:
            await store.ringing(call_sid, form["From"], form["To"])
        return xml(
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            f"<Connect action={quoteattr(base + '/after-stream')}>"
            f"<Stream url={quoteattr(stream_url)}>"
            f'<Parameter name="token" value={quoteattr(call_sid)}/>'
            "</Stream></Connect></Response>"
        )

    @post("/after-stream", status_code=200)
    async def after_stream(request: Request[Any, Any, Any]) -> Response[str]:
        if await signed_form(request) is None:
            return Response("", status_code=403)
        return xml('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>')

    @post("/status", status_code=204)
    async def status(request: Request[Any, Any, Any]) -> None:
        form = await signed_form(request)
        if form is None:
            raise PermissionError  # Litestar answers 500; the driver checks for 204
        if store is not None:
            duration = form.get("CallDuration")
            duration_s = int(duration) if duration else None
            await store.reported(form["CallSid"], form["CallStatus"], duration_s)

    http = Litestar(
        route_handlers=[voice, after_stream, status],
        openapi_config=None,
        on_startup=[create_table],
        on_shutdown=[dispose],
    )

    async def media(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        headers = dict(scope["headers"])
        signature = headers.get(b"x-twilio-signature")
        if not twilio_signature_ok(stream_url, {}, signature and signature.decode()):
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.accept"})
        _decode((await receive())["text"])  # connected
        start = _decode((await receive())["text"])["start"]
        stream_sid, call_sid = start["streamSid"], start["callSid"]
        if store is not None:
            await store.streaming(call_sid, stream_sid)

        async def to_caller(audio: bytes) -> None:
            await send({"type": "websocket.send", "text": media_text(stream_sid, audio)})

        relay: Callable[[bytes], Awaitable[None]] = to_caller
        pump: asyncio.Task[None] | None = None
        agent: ClientConnection | None = None
        if plan.agent:
            agent = await connect(
                plan.agent_url,
                additional_headers={"Authorization": f"Token {AGENT_KEY}"},
                compression=None,  # as frontdesk: mu-law barely compresses
                max_size=1 << 20,
            )
            await agent.send(_encode(SETTINGS).decode())
            if _decode(await agent.recv()).get("type") != "SettingsApplied":
                raise RuntimeError("the agent refused the settings")

            async def from_agent(agent: ClientConnection) -> None:
                async for message in agent:
                    if isinstance(message, bytes):
                        await to_caller(message)

            pump = asyncio.create_task(from_agent(agent))
            relay = agent.send
        while (message := await receive())["type"] == "websocket.receive":
            event = _decode(message["text"])
            kind = event.get("event")
            if kind == "media":
                await relay(base64.b64decode(event["media"]["payload"]))
            elif kind == "stop":
                break
        if agent is not None:
            await agent.close()
        if pump is not None:
            await pump
        if store is not None:
            await store.ended(call_sid)
        with contextlib.suppress(OSError):  # the caller has closed already (after `stop`)
            await send({"type": "websocket.close", "code": 1000})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/media":
            await media(scope, receive, send)
        else:
            await http(scope, receive, send)  # type: ignore[arg-type]

    return app


def run_server(plan: ServerPlan) -> None:
    import uvicorn

    config = uvicorn.Config(
        bare_app(plan),
        host="127.0.0.1",
        port=plan.port,
        server_header=False,
        date_header=True,
        log_level="warning",
        log_config=None,
        proxy_headers=True,
        ws_max_size=WS_MAX_SIZE,
    )
    gc.collect()
    gc.freeze()
    uvicorn.Server(config).run()


# --- the echo agent --------------------------------------------------------------------


async def run_agent(port: int) -> None:
    async def session(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.recv()  # the settings
            await ws.send('{"type":"SettingsApplied"}')
            async for message in ws:
                if isinstance(message, bytes):
                    await ws.send(message)

    async with serve(session, "127.0.0.1", port, compression=None, max_size=1 << 20):
        await asyncio.Future()


# --- the driver ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallShape:
    """What the driver does per call."""

    media: bool = True
    """Open the media stream (every layer but `http`)."""
    frames: int = FRAMES
    paced: bool = False
    """Caller frames every 20 ms, as a phone sends them, rather than all at once."""
    callbacks: bool = True
    """The after-stream and status requests (`benchmarks.greeting` sends neither)."""


async def one_call(client: httpx.AsyncClient, base: str, index: int, shape: CallShape) -> None:
    identity: CallIdentity = new_call(from_number=f"+1555{4000000 + index:07d}")
    started = time.monotonic()
    voice = await post_signed(client, f"{base}/voice", call_params(identity, "ringing"), AUTH_TOKEN)
    voice.raise_for_status()
    reply = parse_twiml(voice.text)
    if reply.stream_url is None or reply.connect_action is None:
        raise RuntimeError(f"no stream in TwiML: {voice.text[:200]}")
    if shape.media:
        sim = SimulatedCall(
            reply.stream_url,
            auth_token=AUTH_TOKEN,
            custom_parameters=reply.stream_parameters,
            call=identity,
        )
        try:
            await sim.connect()
            await sim.send_audio(FRAME * shape.frames, realtime=shape.paced)
            expected = shape.frames * len(FRAME)
            await sim.wait_for(lambda: len(sim.audio) >= expected, 10.0)
            await sim.send_stop()
            await sim.wait_closed(10.0)
            sim.assert_no_violations()
        finally:
            await sim.close()
    if not shape.callbacks:
        return
    after = await post_signed(
        client, reply.connect_action, call_params(identity, "in-progress"), AUTH_TOKEN
    )
    if "<Hangup" not in after.text:
        raise RuntimeError(f"after-stream: {after.status_code} {after.text[:200]}")
    duration = str(max(1, round(time.monotonic() - started)))
    params = call_params(identity, "completed", CallDuration=duration)
    status = await post_signed(client, f"{base}/status", params, AUTH_TOKEN)
    if status.status_code != 204:
        raise RuntimeError(f"status callback: {status.status_code}")


async def drive(base: str, first: int, calls: int, concurrency: int, shape: CallShape) -> None:
    indices = iter(range(first, first + calls))
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            for index in indices:
                await one_call(client, base, index, shape)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


@dataclass
class Figures:
    cpu_ms: float
    kernel_ms: float
    postgres_ms: float
    warmup_ms: float
    calls_per_s: float
    others_cores: float
    """CPU used meanwhile by processes other than the benchmark's, in cores."""


def kernel_s(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[12]) / CLK_TCK


def postmaster_pid(database_url: str) -> int | None:
    """The cluster's postmaster (found by its port), to count its backends' CPU."""
    from sqlalchemy.engine import make_url

    port = str(make_url(database_url).port or 5432)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"-p" in argv and argv[argv.index(b"-p") + 1].decode() == port:
                return int(entry.name)
    return None


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        time.sleep(0.05)
    raise SystemExit(f"{what}: nothing listens on {port}")


def measure(
    layer: str,
    *,
    agent_url: str,
    database_url: str,
    postmaster: int | None,
    calls: int,
    warmup: int,
    concurrency: int,
    first_index: int,
    shape: CallShape,
    agent_pid: int,
) -> Figures:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.setup_floor", "--serve-app", layer, str(port)]
    command += [agent_url, database_url]
    server = subprocess.Popen(command, cwd=ROOT)
    try:
        wait_listening(port, server, f"the {layer} server")
        base = f"http://127.0.0.1:{port}"
        shape = replace(shape, media=layer != "http")
        cpu0 = proc_cpu_s(server.pid)
        asyncio.run(drive(base, first_index, warmup, 1, shape))
        cpu1, kernel1 = proc_cpu_s(server.pid), kernel_s(server.pid)
        pg1 = tree_cpu_s(postmaster) if postmaster else 0.0
        ours1 = sum(os.times()[:2]) + proc_cpu_s(agent_pid)
        busy1, _ = machine_ticks()
        t1 = time.monotonic()
        asyncio.run(drive(base, first_index + warmup, calls, concurrency, shape))
        t2 = time.monotonic()
        time.sleep(0.2)  # sockets closing after the last call
        cpu2, kernel2 = proc_cpu_s(server.pid), kernel_s(server.pid)
        pg2 = tree_cpu_s(postmaster) if postmaster else 0.0
        ours2 = sum(os.times()[:2]) + proc_cpu_s(agent_pid)
        busy2, _ = machine_ticks()
        t3 = time.monotonic()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Figures(
        cpu_ms=(cpu2 - cpu1) * 1000 / calls,
        kernel_ms=(kernel2 - kernel1) * 1000 / calls,
        postgres_ms=(pg2 - pg1) * 1000 / calls,
        warmup_ms=(cpu1 - cpu0) * 1000 / max(1, warmup),
        calls_per_s=calls / (t2 - t1),
        others_cores=((busy2 - busy1) / CLK_TCK - (cpu2 - cpu1) - (pg2 - pg1) - (ours2 - ours1))
        / (t3 - t1),
    )


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:5.2f}"
    return f"{statistics.median(values):5.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.setup_floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--calls", type=int, default=200, help="measured calls per layer")
    parser.add_argument("--warmup", type=int, default=10, help="calls before measuring")
    parser.add_argument("--concurrency", type=int, default=1, help="calls at a time")
    parser.add_argument("--rounds", type=int, default=1, help="times to run every layer")
    parser.add_argument("--orm", action="store_true", help="also the database through the ORM")
    parser.add_argument(
        "--layers", help=f"comma-separated, of {', '.join(LAYERS)} (default: all but db-orm)"
    )
    parser.add_argument(
        "--frames", type=int, default=FRAMES, help=f"caller frames per call (default {FRAMES})"
    )
    parser.add_argument("--paced", action="store_true", help="caller frames every 20 ms")
    parser.add_argument(
        "--no-callbacks",
        action="store_true",
        help="no after-stream or status request (as `benchmarks.greeting`'s calls)",
    )
    parser.add_argument("--serve-app", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--serve-agent", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_agent is not None:
        import uvloop

        uvloop.run(run_agent(args.serve_agent))
        return
    if args.serve_app is not None:
        layer, port, agent_url, database_url = args.serve_app
        run_server(ServerPlan(int(port), layer, agent_url, database_url))
        return
    layers = args.layers.split(",") if args.layers else list(LAYERS[:4])
    if args.orm and "db-orm" not in layers:
        layers.append("db-orm")
    if unknown := set(layers) - set(LAYERS):
        parser.error(f"unknown layers {sorted(unknown)}; of {', '.join(LAYERS)}")
    if not 1 <= args.calls <= 10000 or not 1 <= args.concurrency <= 100 or args.rounds < 1:
        parser.error("--calls 1..10000, --concurrency 1..100, --rounds >= 1")
    if not 0 <= args.frames <= 3000:
        parser.error("--frames 0..3000")
    shape = CallShape(frames=args.frames, paced=args.paced, callbacks=not args.no_callbacks)

    from tests.support.postgres import postgres_server

    print("command: uv run python -m benchmarks.setup_floor " + shlex.join(sys.argv[1:]))
    print(
        f"machine: nproc={os.cpu_count()}  python {platform.python_version()}"
        f"  load average {os.getloadavg()[0]:.2f} at the start"
    )
    libraries = ("uvicorn", "uvloop", "httptools", "litestar", "websockets", "sqlalchemy")
    print("stack: " + ", ".join(f"{name} {version(name)}" for name in (*libraries, "asyncpg")))
    callbacks = ", POST /after-stream, POST /status" if shape.callbacks else ""
    pace = "every 20 ms" if shape.paced else "at once"
    print(
        f"a call: POST /voice, WS /media ({shape.frames} frames each way, sent {pace}){callbacks};"
        f" {args.calls} calls per layer after {args.warmup} unmeasured,"
        f" {args.concurrency} at a time"
    )
    results: dict[str, list[Figures]] = {layer: [] for layer in layers}
    agent_port = free_port()
    agent = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.setup_floor", "--serve-agent", str(agent_port)],
        cwd=ROOT,
    )
    try:
        wait_listening(agent_port, agent, "the echo agent")
        agent_url = f"ws://127.0.0.1:{agent_port}/agent"
        with postgres_server() as database_url:
            postmaster = postmaster_pid(database_url)
            index = 0
            for _ in range(args.rounds):
                for layer in layers:
                    results[layer].append(
                        measure(
                            layer,
                            agent_url=agent_url,
                            database_url=database_url,
                            postmaster=postmaster,
                            calls=args.calls,
                            warmup=args.warmup,
                            concurrency=args.concurrency,
                            first_index=index,
                            shape=shape,
                            agent_pid=agent.pid,
                        )
                    )
                    index += args.calls + args.warmup
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    others = [f.others_cores for runs in results.values() for f in runs]
    print(
        f"load average {os.getloadavg()[0]:.2f} at the end; other processes than this"
        f" benchmark's used {min(others):.2f}-{max(others):.2f} cores while it measured"
    )
    print(
        "server CPU per call, ms: median (min-max) over rounds; [its kernel part];"
        f" the {args.warmup} unmeasured calls' average; Postgres's own per call"
    )
    medians = {layer: statistics.median(f.cpu_ms for f in runs) for layer, runs in results.items()}
    for layer in layers:
        runs = results[layer]
        line = (
            f"  {layer:<7} {spread([f.cpu_ms for f in runs])}"
            f"  [{statistics.median(f.kernel_ms for f in runs):.2f}]"
            f"  first: {statistics.median(f.warmup_ms for f in runs):5.1f}"
            f"  {statistics.median(f.calls_per_s for f in runs):5.1f} calls/s"
        )
        if layer in DATABASE_LAYERS:
            line += f"  postgres {statistics.median(f.postgres_ms for f in runs):.2f}"
        below = BUILDS_ON.get(layer)
        if below in medians:
            line += f"  (+{medians[layer] - medians[below]:.2f} over {below})"
        print(line)


if __name__ == "__main__":
    main()
