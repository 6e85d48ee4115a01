"""Structured logs (structlog over the standard library): JSON lines when the output is
not a terminal (or LOG_FORMAT=json), readable lines on a terminal. Every line carries
the context bound with `bind_call` (the call sid), and passes through a redactor that
masks phone numbers and removes configured secrets, whatever module logged it."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["auto", "json", "console"]

_PHONE = re.compile(
    r"(?:\+|%2B)\d[\d\s().-]{5,18}\d"  # E.164, also URL-encoded
    r"|(?<![\w-])\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w-])"  # national, NANP-style
)
_KEEP = 2
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
"""A webhook signing secret, wherever it turns up (e.g. a failed statement's parameters)."""


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0).replace("%2B", "+"))
    return "[phone ..." + digits[-_KEEP:] + "]"


class Redactor:
    """Masks phone numbers (all but the last two digits) and replaces each configured
    secret (auth tokens, API keys) and any webhook secret (`whsec_...`) with `[redacted]`
    in every string of the event."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, "[redacted]")
        value = _WEBHOOK_SECRET.sub("whsec_[redacted]", value)
        return _PHONE.sub(_mask_phone, value)

    def __call__(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        for key, value in event.items():
            if isinstance(value, str) and key != "timestamp":
                event[key] = self.text(value)
        return event


class _Fields:
    def __init__(self, fields: Mapping[str, object]) -> None:
        self._fields = dict(fields)

    def __call__(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        for key, value in self._fields.items():
            event.setdefault(key, value)
        return event


class _StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever `sys.stderr` is at the time of the record (it may be replaced)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(
    *,
    level: str = "INFO",
    log_format: LogFormat = "auto",
    secrets: Sequence[str] = (),
    fields: Mapping[str, object] | None = None,
) -> None:
    """Route the standard library's and structlog's records through one pipeline;
    `fields` go on every line (a worker process's number)."""
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        *([_Fields(fields)] if fields else []),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        Redactor(secrets),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # alembic announces each of its plugins at INFO when first imported: noise, and since
    # the CLI imports it lazily (after this runs) it would open every `migrate` and `serve`.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


@contextmanager
def bind_call(carrier: str, carrier_call_id: str, **values: Any) -> Iterator[None]:
    """Bind the call's carrier and its reference (and more) to every log line of this
    task and its children."""
    with structlog.contextvars.bound_contextvars(
        carrier=carrier, carrier_call_id=carrier_call_id, **values
    ):
        yield
