"""`frontdesk serve --workers N`: one supervisor process binds the port and runs N
worker processes that accept on it, each a whole server on its own event loop (and so
its own core).

Nothing a call needs lives in one worker only: stream tokens are in Postgres (a stream
may reach any worker), live call events cross workers through Postgres LISTEN/NOTIFY,
the call limit is the host's (a shared count, `SharedHostCalls`), and `/metrics` sums
every worker (prometheus_client's multiprocess mode, over files in a directory the
supervisor owns). An agent conversation opened ahead waits in the worker that took the
webhook; a stream that reaches another worker connects its own (counted as
`connected_at_stream`), and the first worker is told to close the one it opened.

Signals: SIGTERM is passed to every worker, each drains its own calls (see
`entrypoints.server`), and the supervisor exits 0 once all have; SIGINT likewise stops
them at once. A worker that dies while serving is replaced; one that dies before it
serves stops the lot (a start-up that fails would only fail again).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import ForkContext, ForkProcess
from multiprocessing.sharedctypes import SynchronizedArray
from types import FrameType
from typing import Any

from pydantic import SecretStr

from entrypoints.host_calls import HostCallState, SharedHostCalls
from entrypoints.settings import Settings

log = logging.getLogger("frontdesk")

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's multiprocess mode, chosen when it is first imported: the
supervisor sets it before anything imports the library, and the workers inherit it."""


def default_worker_count() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(settings: Settings) -> tuple[int, str | None]:
    """How many workers to run, and why fewer than asked (or than the default)."""
    wanted = settings.workers or default_worker_count()
    if wanted > 1 and settings.resolved_database_url().startswith("sqlite"):
        return 1, (
            "SQLite takes one writer at a time, and workers share stream tokens and live "
            "call events through Postgres"
        )
    return wanted, None


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker starts from."""

    settings: Settings
    listener: socket.socket
    calls: HostCallState
    serving: SynchronizedArray[Any]
    index: int
    supervisor: int
    """The supervisor's process id."""


def run_worker(plan: WorkerPlan) -> None:
    """A worker process's body: the same server as a single process, accepting on the
    supervisor's socket, its call count shared with the other workers."""
    from entrypoints.commands import run_server
    from entrypoints.observability.logging import configure_logging

    drain_when_orphaned(plan.supervisor)
    settings = plan.settings
    configure_logging(
        level=settings.log_level,
        log_format=settings.log_format,
        secrets=settings.secrets,
        fields={"worker": plan.index},
    )

    def serving() -> None:
        plan.serving[plan.index] = 1
        log.info("worker %d serving (process %d)", plan.index, os.getpid())

    run_server(
        settings,
        host=SharedHostCalls(plan.calls, plan.index),
        listener=plan.listener,
        on_serving=serving,
    )


PR_SET_PDEATHSIG = 1


def drain_when_orphaned(supervisor: int) -> None:
    """Have the kernel send this worker SIGTERM (drain, then exit) if the supervisor
    dies without passing a signal on (SIGKILL, a crash): an orphaned worker would hold
    the port, and a restarted `serve` could not bind it."""
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    if prctl is None:  # not Linux: an orphaned worker stays until it is stopped
        return
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("cannot ask to be told of the supervisor's death: errno %d", ctypes.get_errno())
    if os.getppid() != supervisor:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    def __init__(self, settings: Settings, count: int) -> None:
        if settings.console_secret is None:
            # A console form one worker made may be posted to another: they must sign
            # alike (one random secret for the instance, as one process has).
            settings = settings.model_copy(
                update={"console_secret": SecretStr(secrets.token_hex(32))}
            )
        self._settings, self._count = settings, count
        self._context: ForkContext = multiprocessing.get_context("fork")
        self._calls = HostCallState(self._context, count, settings.max_concurrent_calls)
        self._serving: SynchronizedArray[Any] = self._context.Array("b", count)
        self._workers: dict[int, ForkProcess] = {}
        self._stopping: int | None = None
        """The signal being passed on to the workers, once one came."""
        self._failed = False

    def run(self, listener: socket.socket) -> int:
        handled = (signal.SIGTERM, signal.SIGINT)
        original = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        try:
            for index in range(self._count):
                self._start(index, listener)
            log.info(
                "serving on %s:%d with %d workers",
                self._settings.host,
                self._settings.port,
                self._count,
            )
            self._watch(listener)
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)
        return 1 if self._failed else 0

    def _start(self, index: int, listener: socket.socket) -> None:
        self._calls.live[index] = self._serving[index] = 0
        process = self._context.Process(
            target=run_worker,
            args=(
                WorkerPlan(
                    self._settings, listener, self._calls, self._serving, index, os.getpid()
                ),
            ),
            name=f"frontdesk-worker-{index}",
        )
        process.start()
        self._workers[index] = process
        if self._stopping is not None and process.pid is not None:
            os.kill(process.pid, self._stopping)  # the signal came while it was starting

    def close(self) -> None:
        self._calls.close()

    def _on_signal(self, sig: int, _: FrameType | None) -> None:
        self._stopping = sig
        for process in list(self._workers.values()):
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, sig)

    def _watch(self, listener: socket.socket) -> None:
        while self._workers:
            by_sentinel = {process.sentinel: index for index, process in self._workers.items()}
            for sentinel in wait(list(by_sentinel), timeout=1.0):
                assert isinstance(sentinel, int)  # what it was given
                index = by_sentinel[sentinel]
                process = self._workers.pop(index)
                process.join()
                forget_worker_metrics(process.pid)
                with self._calls.lock:
                    self._calls.live[index] = 0
                self._after_exit(index, process, listener)

    def _after_exit(self, index: int, process: ForkProcess, listener: socket.socket) -> None:
        code = process.exitcode
        if self._stopping is not None:
            # Killed by the signal itself: it came before the worker was serving (no calls).
            if code not in (0, -self._stopping) and self._stopping == signal.SIGTERM:
                log.error("worker %d exited with status %s while draining", index, code)
                self._failed = True
            return
        if not self._serving[index]:
            log.error("worker %d exited with status %s before serving: stopping", index, code)
            self._failed = True
            self._on_signal(signal.SIGINT, None)
            return
        log.error("worker %d exited with status %s: starting another", index, code)
        self._start(index, listener)


def forget_worker_metrics(pid: int | None) -> None:
    """Drop a dead worker's live gauges (its counters stay in the sums)."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if directory and pid is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on (as uvicorn binds its own)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def supervise(settings: Settings, count: int, prepare: Callable[[], None]) -> int:
    """Bind, then run `count` workers until they have all stopped. `prepare` runs
    first (checks that would fail every worker alike)."""
    metrics_directory = tempfile.mkdtemp(prefix="frontdesk-metrics-")
    os.environ[MULTIPROCESS_DIRECTORY] = metrics_directory
    try:
        prepare()
        with bind(settings.host, settings.port) as listener:
            supervisor = Supervisor(settings, count)
            try:
                return supervisor.run(listener)
            finally:
                supervisor.close()
    finally:
        shutil.rmtree(metrics_directory, ignore_errors=True)
