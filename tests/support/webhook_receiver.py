"""A real HTTP server that receives webhooks, on a free loopback port, in a thread.

It answers each request with the next status of its script (then 200 forever) and
records what arrived; tests read the records as they come (`next`), bounded by a
timeout, never by sleeping.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class WebhookReceiver:
    def __init__(self, statuses: Iterable[int] = ()) -> None:
        self._script = list(statuses)
        self._lock = threading.Lock()
        self._arrivals: queue.Queue[Received] = queue.Queue()
        self.received: list[Received] = []
        self.url = ""

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, then 200."""
        with self._lock:
            self._script = list(statuses)

    def _next_status(self) -> int:
        with self._lock:
            return self._script.pop(0) if self._script else 200

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
        self._arrivals.put(received)

    def next(self, timeout_s: float = 5.0) -> Received:
        """The next request to arrive; fails the test if none comes within `timeout_s`."""
        try:
            return self._arrivals.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no webhook arrived within {timeout_s} s") from None


@contextmanager
def webhook_receiver(statuses: Iterable[int] = ()) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(statuses)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver._next_status()
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()
            receiver._record(
                Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    answered=status,
                )
            )

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
