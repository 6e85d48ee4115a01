"""Prometheus metrics for calls, tools, the voice agent, API authentication and
webhooks, served at `/metrics`.

`CallMetrics` is a `CallObserver`: tool calls and barge-ins count as they happen;
frame counts and the agent's latencies are added when a call ends, from its session's
counters, so nothing is touched per audio frame.
"""

from __future__ import annotations

import asyncio
import os

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)

from application.calls.events import AgentReconnected, BargedIn, CallEnded, CallEvent, ToolRan
from entrypoints.workers import MULTIPROCESS_DIRECTORY

__all__ = ["CONTENT_TYPE", "CallMetrics"]

_LATENCY_BUCKETS_S = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10)
_AGENT_BUCKETS_S = (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8)
_WEBHOOK_LAG_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300, 1800, 7200, 36000, 86400)


class CallMetrics:
    """One registry per app, so two apps in one process (tests) don't collide.

    Under `serve --workers` (prometheus_client's multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`
    set) every worker writes its values to files and `render` sums all workers'; the
    per-process figures (memory, CPU, descriptors, event-loop tasks) are then left out,
    as one worker's would pass for the instance's."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._across_workers = os.environ.get(MULTIPROCESS_DIRECTORY)
        if self._across_workers is None:
            ProcessCollector(registry=r)  # resident memory, CPU, open file descriptors
            Gauge(
                "frontdesk_asyncio_tasks", "Tasks alive on the event loop", registry=r
            ).set_function(_task_count)
        self.active_calls = Gauge(
            "frontdesk_active_calls",
            "Calls with an open media stream",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.calls = Counter(
            "frontdesk_calls_total", "Finished calls by end reason", ["outcome"], registry=r
        )
        self.calls_turned_away = Counter(
            "frontdesk_calls_turned_away_total",
            "Calls refused at the webhook",
            ["reason"],
            registry=r,
        )
        self.frames = Counter(
            "frontdesk_audio_frames_total",
            "Audio messages relayed (in: the caller's 20 ms frames; out: the agent's chunks)",
            ["direction"],
            registry=r,
        )
        self.dropped_frames = Counter(
            "frontdesk_dropped_frames_total", "Malformed or dropped media frames", registry=r
        )
        self.barge_ins = Counter(
            "frontdesk_barge_ins_total", "Times a caller interrupted the agent", registry=r
        )
        self.tool_calls = Counter(
            "frontdesk_tool_calls_total",
            "Tool calls by tool and outcome",
            ["tool", "outcome"],
            registry=r,
        )
        self.tool_latency = Histogram(
            "frontdesk_tool_latency_seconds",
            "Tool call duration",
            ["tool"],
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.agent_latency = Histogram(
            "frontdesk_agent_latency_seconds",
            "The agent's reported latency from end of user speech to its first audio",
            buckets=_AGENT_BUCKETS_S,
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "frontdesk_webhook_deliveries_total",
            "Webhook delivery attempts by outcome: sent (2xx), retried (failed, will be "
            "tried again), failed (gave up, or the receiver answered 410)",
            ["outcome"],
            registry=r,
        )
        self.webhook_lag = Histogram(
            "frontdesk_webhook_delivery_lag_seconds",
            "From an event's commit to its successful delivery",
            buckets=_WEBHOOK_LAG_BUCKETS_S,
            registry=r,
        )
        self.texts = Counter(
            "frontdesk_texts_total",
            "Text attempts by outcome: sent, retried (will be tried again), failed (gave "
            "up, or refused for good), skipped (the number texted STOP)",
            ["outcome"],
            registry=r,
        )
        self.agent_reconnects = Counter(
            "frontdesk_agent_reconnects_total",
            "Voice agent connections re-opened mid-call",
            registry=r,
        )
        self.agent_prepared = Counter(
            "frontdesk_agent_preconnects_total",
            "Agent conversations opened at admission, by ending: handed_over (the stream "
            "took it), connected_at_stream (none ready: the stream connected one), expired "
            "(no stream came), discarded (the call ended first, or its stream reached another "
            "worker)",
            ["outcome"],
            registry=r,
        )
        self.api_auth_failures = Counter(
            "frontdesk_api_auth_failures_total", "Invalid API keys presented", registry=r
        )
        self.api_auth_throttled = Counter(
            "frontdesk_api_auth_throttled_total",
            "API requests refused because their address sent too many invalid keys",
            registry=r,
        )

    def publish(self, call_id: str, event: CallEvent) -> None:
        """Count one call event (the `CallObserver` port); never raises."""
        match event:
            case ToolRan(name, _, outcome, duration_ms):
                self.tool_calls.labels(name, outcome).inc()
                self.tool_latency.labels(name).observe(duration_ms / 1000)
            case BargedIn():
                self.barge_ins.inc()
            case AgentReconnected():
                self.agent_reconnects.inc()
            case CallEnded(reason, _, stats):
                self.calls.labels(reason.value).inc()
                self.frames.labels("in").inc(stats.frames_in)
                self.frames.labels("out").inc(stats.frames_out)
                for latency_s in stats.agent_latencies_s:
                    self.agent_latency.observe(latency_s)
            case _:
                pass

    def prepared_agent_ended(self, outcome: str) -> None:
        """Count one prepared agent conversation's ending (the `WarmAgentObserver` port)."""
        self.agent_prepared.labels(outcome).inc()

    def attempted(self, outcome: str, lag_s: float | None) -> None:
        """Count one webhook delivery attempt (the `DeliveryObserver` port)."""
        self.webhook_deliveries.labels(outcome).inc()
        if lag_s is not None:
            self.webhook_lag.observe(max(0.0, lag_s))

    def text_attempted(self, outcome: str) -> None:
        """Count one text attempt (the `TextObserver` port)."""
        self.texts.labels(outcome).inc()

    def render(self) -> bytes:
        if self._across_workers is None:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker, self._across_workers)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)


def _task_count() -> float:
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:  # scraped outside the event loop
        return 0.0


def open_file_descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1
