"""`frontdesk serve` with two worker processes on one port, on Postgres.

The kernel hands each connection to whichever worker accepts it first, so a test cannot
choose the worker; it reads which one took what from the workers' logs (JSON lines,
each with its `worker`), and goes on calling until both workers have played their part
(bounded), so a test cannot pass on one worker alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.phone_fixtures import DEEPGRAM_KEY
from tests.e2e.server_process import (
    SAMPLE_FRONT_DESK,
    ServerProcess,
    ended_record,
    server_process,
)
from tests.support.api_server import API_KEY
from tests.support.deepgram_emulator import (
    CallFunction,
    DeepgramEmulator,
    ExpectAudio,
    Say,
    Script,
    WaitForClose,
)
from tests.support.metrics_text import sample
from tests.support.twilio_simulator import SimulatedCall, new_call

WORKERS = {"WORKERS": "2", "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}
ENDS_AT_ONCE: Script = [
    Say("Hello", audio_bytes=800),
    CallFunction("end_call"),
    Say("Goodbye", audio_bytes=800),
    WaitForClose(),
]
ENDS_WHEN_ANSWERED: Script = [
    Say("Hello", audio_bytes=800),
    ExpectAudio(3200),
    CallFunction("end_call"),
    Say("Goodbye", audio_bytes=800),
    WaitForClose(),
]
MOST_CALLS = 24
"""Calls a test places at most while waiting for both workers to have taken one."""


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@asynccontextmanager
async def two_workers(
    database_url: str, script: Script, log_dir: Path, **env: str
) -> AsyncIterator[ServerProcess]:
    async with (
        DeepgramEmulator(api_key=DEEPGRAM_KEY, script=script) as emulator,
        server_process(
            database_url, emulator, log_dir / "server.log", **{**WORKERS, **env}
        ) as served,
        # A new connection for every request, as Twilio's come: a kept-alive one stays
        # with the worker that accepted it.
        httpx.AsyncClient(
            base_url=served.line.base_url,
            headers={"Authorization": f"Bearer {API_KEY}"},
            limits=httpx.Limits(max_keepalive_connections=0),
            timeout=10,
        ) as api,
    ):
        server = replace(served, line=replace(served.line, api=api))
        await until_workers_serve(server, {0, 1})
        yield server


def log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = []
    for text in server.log().splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue  # a line still being written
    return lines


def workers_that(server: ServerProcess, event: Callable[[str], bool]) -> dict[str, int]:
    """Each call (its carrier reference, or the event text) and the worker whose log line
    matched `event`."""
    return {
        line.get("carrier_call_id", line["event"] + str(i)): line["worker"]
        for i, line in enumerate(log_lines(server))
        if "worker" in line and event(line["event"])
    }


def serving_processes(server: ServerProcess) -> dict[int, int]:
    """Each worker's newest process id, once it accepts on the port."""
    pids = {}
    for line in log_lines(server):
        if line["event"].startswith("worker ") and " serving (process " in line["event"]:
            pids[line["worker"]] = int(line["event"].rsplit(" ", 1)[1].rstrip(")"))
    return pids


async def until_workers_serve(server: ServerProcess, workers: set[int]) -> dict[int, int]:
    async with asyncio.timeout(30):
        while True:
            serving = serving_processes(server)
            if workers <= set(serving):
                return serving
            await asyncio.sleep(0.05)  # polling the workers' log


def calls_started(server: ServerProcess) -> dict[str, int]:
    return workers_that(server, lambda event: event == "call started")


async def logged(server: ServerProcess, event: Callable[[str], bool], count: int) -> None:
    async with asyncio.timeout(10):
        while True:
            if len(workers_that(server, event)) >= count:
                return
            await asyncio.sleep(0.02)  # polling the workers' log


async def a_whole_call(server: ServerProcess, caller: str) -> None:
    line = server.line
    call = await line.dial_in(new_call(from_number=caller))
    try:
        await call.wait_closed(timeout_s=15)
        call.assert_no_violations()
    finally:
        await call.close()
    assert (await line.after_stream(call.call)).verbs == ("Hangup",)
    await line.completed(call.call)


async def test_calls_run_on_both_workers_streams_cross_them_and_metrics_count_every_worker(
    database_url: str, tmp_path: Path
) -> None:
    async with two_workers(database_url, ENDS_AT_ONCE, tmp_path) as server:
        made = 0

        async def scrape() -> str:
            response = await server.line.api.get("/metrics")
            assert response.status_code == 200
            return response.text

        def prepared(text: str, outcome: str) -> float:
            try:
                return sample(text, "frontdesk_agent_preconnects_total", outcome=outcome)
            except AssertionError:  # not counted yet
                return 0

        def crossed(text: str) -> float:
            return prepared(text, "connected_at_stream")

        while made < MOST_CALLS:
            await a_whole_call(server, f"+1415555{made:04d}")
            made += 1
            await logged(server, lambda event: event == "call ended", made)
            text = await scrape()
            # A webhook taken by one worker and its stream by the other: the stream
            # found its token in Postgres and connected its own agent.
            if set(calls_started(server).values()) == {0, 1} and crossed(text) >= 1:
                break
        assert set(calls_started(server).values()) == {0, 1}, "one worker took every call"
        assert crossed(text) >= 1, "no stream reached the other worker than its webhook"
        # The worker that took such a webhook is told, and closes the conversation it
        # opened ahead at once (it would otherwise wait AGENT_PRECONNECT_TIMEOUT_S, 20 s).
        async with asyncio.timeout(5):
            while True:
                text = await scrape()
                if prepared(text, "discarded") >= crossed(text):
                    break
                await asyncio.sleep(0.05)  # polling the exposition
        assert prepared(text, "discarded") == crossed(text)
        assert prepared(text, "handed_over") + crossed(text) == made
        for _ in range(4):  # whichever worker answers, it counts every worker's calls
            text = await scrape()
            assert sample(text, "frontdesk_calls_total", outcome="agent_ended") == made
            assert sample(text, "frontdesk_active_calls") == 0
        assert "process_resident_memory_bytes" not in text  # one worker's would mislead


async def test_sigterm_drains_every_worker_and_the_supervisor_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    async with two_workers(
        database_url, ENDS_WHEN_ANSWERED, tmp_path, DRAIN_TIMEOUT_S="30"
    ) as server:
        line, live = server.line, list[SimulatedCall]()
        while set(calls_started(server).values()) != {0, 1} and len(live) < MOST_CALLS:
            call = await line.dial_in(new_call(from_number=f"+1415555{len(live):04d}"))
            await call.wait_for_audio(800)
            live.append(call)
            await logged(server, lambda event: event == "call started", len(live))
        assert set(calls_started(server).values()) == {0, 1}, "one worker took every call"

        server.process.send_signal(signal.SIGTERM)
        await logged(server, lambda event: event.startswith("draining:"), 2)
        refused = 0
        while set(turned_away(server, "draining").values()) != {0, 1}:
            assert refused < MOST_CALLS, "one worker took every webhook"
            _, reply = await line.ring(new_call(from_number="+14155559999"))
            assert reply.stream_url is None
            assert reply.dial_number == SAMPLE_FRONT_DESK
            refused += 1

        for call in live:  # every live call, on either worker, goes on to its goodbye
            await call.send_audio(bytes(3200))
        for call in live:
            await asyncio.wait_for(call.wait_closed(), 10)
            record = await ended_record(line.api, call.call.call_sid)
            assert record["call"]["end_reason"] == "agent_ended"
            assert (await line.after_stream(call.call)).verbs[-1] == "Hangup"
        assert await asyncio.wait_for(server.process.wait(), 20) == 0


def turned_away(server: ServerProcess, reason: str) -> dict[str, int]:
    return workers_that(server, lambda event: event == f"turning a call away: {reason}")


async def test_the_call_limit_is_the_hosts_across_workers(
    database_url: str, tmp_path: Path
) -> None:
    async with two_workers(
        database_url, ENDS_WHEN_ANSWERED, tmp_path, MAX_CONCURRENT_CALLS="1"
    ) as server:
        line = server.line
        live = await line.dial_in(new_call(from_number="+14155550123"))
        await live.wait_for_audio(800)
        rung = 0
        while set(turned_away(server, "at_capacity").values()) != {0, 1}:
            assert rung < MOST_CALLS, "one worker took every webhook"
            _, reply = await line.ring(new_call(from_number="+14155550124"))
            assert reply.stream_url is None, "a second call was let in past the host's limit"
            rung += 1
            await logged(server, lambda event: event.startswith("turning a call away"), rung)

        await live.send_audio(bytes(3200))
        await asyncio.wait_for(live.wait_closed(), 10)
        await line.after_stream(live.call)
        _, reply = await line.ring(new_call(from_number="+14155550125"))
        assert reply.stream_url is not None  # the place is free again, whichever worker


async def test_a_worker_that_dies_is_replaced_and_the_port_keeps_answering(
    database_url: str, tmp_path: Path
) -> None:
    async with two_workers(database_url, ENDS_AT_ONCE, tmp_path) as server:
        before = serving_processes(server)
        os.kill(before[0], signal.SIGKILL)
        async with asyncio.timeout(30):
            while True:
                if serving_processes(server).get(0) not in (None, before[0]):
                    break
                await asyncio.sleep(0.05)  # polling the workers' log
        await server.wait_for_log("worker 0 exited with status -9: starting another")
        for i in range(4):
            await a_whole_call(server, f"+1415555{i:04d}")
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 20) == 0


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody has reaped yet counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


async def test_workers_whose_supervisor_is_killed_drain_and_exit(
    database_url: str, tmp_path: Path
) -> None:
    async with two_workers(database_url, ENDS_AT_ONCE, tmp_path) as server:
        workers = serving_processes(server)
        server.process.kill()  # no signal is passed on: the kernel tells the workers
        await server.process.wait()
        await logged(server, lambda event: event.startswith("draining:"), 2)
        async with asyncio.timeout(15):
            while True:
                if all(gone(pid) for pid in workers.values()):
                    break
                await asyncio.sleep(0.05)  # polling the workers' exit


def served_by(server: ServerProcess, request: str) -> list[int]:
    """The worker of each `request` ("GET /path"), in order, from uvicorn's access log."""
    return [
        line["worker"]
        for line in log_lines(server)
        if line.get("logger") == "uvicorn.access" and f'"{request}' in line["event"]
    ]


async def test_a_console_form_made_by_one_worker_is_accepted_by_the_other(
    database_url: str, tmp_path: Path
) -> None:
    # No CONSOLE_SECRET set: the instance's workers still sign their forms alike.
    async with two_workers(database_url, ENDS_AT_ONCE, tmp_path) as server:
        for attempt in range(MOST_CALLS):
            async with httpx.AsyncClient(
                base_url=server.line.base_url,
                limits=httpx.Limits(max_keepalive_connections=0),
                timeout=10,
            ) as browser:
                form = await browser.get("/console/login")
                token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
                assert token is not None
                sent = await browser.post(
                    "/console/login",
                    data={"_csrf_token": token[1], "email": f"nobody{attempt}@example.com"},
                )
            assert sent.status_code in (401, 429), sent.text  # not 403: the token held
            await logged(server, lambda event: '"POST /console/login' in event, attempt + 1)
            made, posted = (
                served_by(server, "GET /console/login"),
                served_by(server, "POST /console/login"),
            )
            if made[-1] != posted[-1]:
                return
        raise AssertionError("every form was posted back to the worker that made it")
