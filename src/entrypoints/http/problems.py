"""RFC 9457 problem details: the one table mapping failures to HTTP responses.

Domain errors carry a stable `code`; the status for each code is decided here and
nowhere else. Unexpected exceptions become a bare 500 that names no internals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.types import ExceptionHandlersMap

from application.calls.records import CallNotFound
from application.errors import StorageUnavailable
from domain.scheduling import InvalidInput, SchedulingError
from domain.webhooks import WebhookError
from entrypoints.http.rate_limit import RateLimited

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://frontdesk.dev/problems/"
STORAGE_RETRY_AFTER_S = 5

logger = logging.getLogger(__name__)


class FieldError(msgspec.Struct, frozen=True):
    """One invalid input: `field` names the body field, query or header parameter."""

    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem. `code` is stable: branch on it, not on `title` or `detail`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None


class Unauthorized(Exception):
    """The request carries no valid API key."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Forbidden(Exception):
    """The request may not be made from where it comes from, whatever it carries."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownQueryParameters(Exception):
    """The request names query parameters its operation does not take (`names`, sorted)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"Unknown query parameter(s): {', '.join(names)}.")
        self.names = names


_STATUS_BY_CODE: Mapping[str, int] = {
    "appointment_not_found": 404,
    "slot_taken": 409,
    "idempotency_conflict": 409,
    "appointment_not_changeable": 409,
    "webhook_not_found": 404,
    "delivery_not_found": 404,
    "webhook_disabled": 409,
}
"""Status per domain error code; every other rule the domain refuses is a 422."""

_TITLES: Mapping[str, str] = {
    "appointment_not_found": "Appointment not found",
    "slot_taken": "Slot taken",
    "idempotency_conflict": "Idempotency key reused",
    "appointment_not_changeable": "Appointment cannot be changed",
    "invalid_input": "Invalid input",
    "unknown_provider": "Unknown provider",
    "unknown_service": "Unknown service",
    "service_not_offered": "Service not offered",
    "slot_not_offered": "Slot not offered",
    "slot_in_past": "Slot in the past",
    "short_notice": "Too short notice",
    "beyond_horizon": "Beyond booking horizon",
    "validation_failed": "Request validation failed",
    "unauthorized": "Unauthorized",
    "call_not_found": "Call not found",
    "rate_limited": "Too many requests",
    "auth_throttled": "Too many invalid API keys",
    "forbidden": "Forbidden",
    "unknown_query_parameter": "Unknown query parameter",
    "storage_unavailable": "Storage unavailable",
    "internal_error": "Internal server error",
    "invalid_subscription": "Invalid subscription",
    "destination_refused": "Destination refused",
    "webhook_not_found": "Webhook subscription not found",
    "delivery_not_found": "Delivery not found",
    "webhook_disabled": "Webhook subscription disabled",
}


def problem(code: str, status: int, detail: str, errors: list[FieldError] | None = None) -> Problem:
    return Problem(
        type=PROBLEM_TYPE_BASE + code.replace("_", "-"),
        title=_TITLES.get(code, code.replace("_", " ").capitalize()),
        status=status,
        detail=detail,
        code=code,
        errors=errors,
    )


def _respond(body: Problem, headers: Mapping[str, str] | None = None) -> Response[Problem]:
    return Response(
        content=body, status_code=body.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def _scheduling_error(_: Request[Any, Any, Any], exc: SchedulingError) -> Response[Problem]:
    status = _STATUS_BY_CODE.get(exc.code, 422)
    errors = [FieldError(exc.field, exc.message)] if isinstance(exc, InvalidInput) else None
    return _respond(problem(exc.code, status, exc.message, errors))


def _webhook_error(_: Request[Any, Any, Any], exc: WebhookError) -> Response[Problem]:
    status = _STATUS_BY_CODE.get(exc.code, 422)
    errors = [FieldError(exc.field, exc.message)] if exc.field is not None else None
    return _respond(problem(exc.code, status, exc.message, errors))


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '([^']+)'")
_API_NAMES: Mapping[str, str] = {
    "starts_from": "from",
    "starts_before": "to",
    "idempotency_key": "Idempotency-Key",
}
"""Handler parameter names as the API spells them (query aliases, header names)."""


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = [_field_error(item) for item in (exc.extra if isinstance(exc.extra, list) else [])]
    if not errors and (missing := _MISSING_PARAMETER.search(exc.detail)):
        errors = [FieldError(missing.group(1), "This parameter is required.")]
    fields = ", ".join(e.field for e in errors) or "the request"
    return _respond(problem("validation_failed", 422, f"Invalid value for {fields}.", errors))


def _field_error(item: object) -> FieldError:
    """Litestar's `{key, message, source}` as `{field, message}`, with the API's names."""
    fields = item if isinstance(item, dict) else {}
    key, message = str(fields.get("key") or "body"), str(fields.get("message", "Invalid value."))
    if key == "data":  # the body as a whole: name the missing field when msgspec did
        missing = _MISSING_FIELD.search(message)
        key = missing.group(1) if missing else "body"
    return FieldError(field=_API_NAMES.get(key, key), message=message)


def _call_not_found(_: Request[Any, Any, Any], exc: CallNotFound) -> Response[Problem]:
    return _respond(problem(exc.code, 404, exc.message))


def _rate_limited(_: Request[Any, Any, Any], exc: RateLimited) -> Response[Problem]:
    return _respond(problem(exc.code, 429, str(exc)), {"Retry-After": str(exc.retry_after_s)})


def _unauthorized(_: Request[Any, Any, Any], exc: Unauthorized) -> Response[Problem]:
    return _respond(problem("unauthorized", 401, exc.detail), {"WWW-Authenticate": "Bearer"})


def _forbidden(_: Request[Any, Any, Any], exc: Forbidden) -> Response[Problem]:
    return _respond(problem("forbidden", 403, exc.detail))


def _unknown_query(_: Request[Any, Any, Any], exc: UnknownQueryParameters) -> Response[Problem]:
    errors = [
        FieldError(name, "This operation takes no such query parameter.") for name in exc.names
    ]
    return _respond(problem("unknown_query_parameter", 400, str(exc), errors))


def _storage_unavailable(_: Request[Any, Any, Any], exc: StorageUnavailable) -> Response[Problem]:
    return _respond(
        problem(exc.code, 503, exc.message), {"Retry-After": str(STORAGE_RETRY_AFTER_S)}
    )


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        return _internal_error(_, exc)
    code = {
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
    }.get(status, "malformed_request")
    return _respond(problem(code, status, exc.detail), exc.headers)


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(problem("internal_error", 500, "Something went wrong on our side."))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SchedulingError: _scheduling_error,
    WebhookError: _webhook_error,
    ValidationException: _validation_error,
    Unauthorized: _unauthorized,
    Forbidden: _forbidden,
    UnknownQueryParameters: _unknown_query,
    CallNotFound: _call_not_found,
    RateLimited: _rate_limited,
    StorageUnavailable: _storage_unavailable,
    HTTPException: _http_error,
    Exception: _internal_error,
}
"""Litestar picks the most specific class in the MRO, so subclasses inherit these."""


def _spec(description: str, code: str, status: int, detail: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type=PROBLEM_MEDIA_TYPE,
        examples=[Example(summary=code, value=msgspec.to_builtins(problem(code, status, detail)))],
    )


BAD_REQUEST = {
    400: _spec(
        "Malformed request: a body that is not JSON, or a query parameter the operation does "
        "not take (`unknown_query_parameter`, naming it in `errors`)",
        "malformed_request",
        400,
        "JSON is malformed: invalid character (byte 0)",
    )
}
UNAUTHORIZED = {
    **BAD_REQUEST,
    429: _spec(
        "Over this API key's rate limit (`rate_limited`), or too many invalid keys from this "
        "address (`auth_throttled`); retry after Retry-After seconds",
        "rate_limited",
        429,
        "Too many requests; retry in 2 s.",
    ),
    401: _spec("Missing or invalid API key", "unauthorized", 401, "Invalid API key."),
}
NOT_FOUND = {
    404: _spec(
        "No such appointment", "appointment_not_found", 404, "I couldn't find that appointment."
    )
}
CALL_NOT_FOUND = {404: _spec("No such call", "call_not_found", 404, "No call with that id.")}
CONFLICT = {
    409: _spec(
        "Slot taken, idempotency key reused, or appointment not changeable",
        "slot_taken",
        409,
        "Sorry, that time has just been taken.",
    )
}
UNPROCESSABLE = {
    422: _spec(
        "Invalid request or a scheduling rule refused it",
        "slot_in_past",
        422,
        "That time has already passed.",
    )
}
UNAVAILABLE = {
    503: _spec(
        "The database is unavailable; retry after Retry-After seconds",
        "storage_unavailable",
        503,
        "The scheduling system is unavailable right now.",
    )
}
WEBHOOK_NOT_FOUND = {
    404: _spec(
        "No such subscription, or no such delivery of it",
        "webhook_not_found",
        404,
        "No webhook subscription with that id.",
    )
}
WEBHOOK_CONFLICT = {
    409: _spec(
        "The subscription is disabled",
        "webhook_disabled",
        409,
        "This subscription was disabled (gone); subscribe again to receive events.",
    )
}
