"""Rendering helpers shared by the console pages: templates with the signed-in staff
member, and the console's own error pages (HTML, never problem+json)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.types import ExceptionHandlersMap

from application.calls.records import CallNotFound
from application.errors import StorageUnavailable
from domain.scheduling import AppointmentNotFound
from entrypoints.console.security import STAFF_STATE_KEY

logger = logging.getLogger(__name__)


class BadConsoleInput(Exception):
    """A query or form value the console cannot use; `message` tells staff what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def page(
    request: Request[Any, Any, Any],
    name: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """`name` rendered with `context`, the signed-in account (if any) and `csrf_input`."""
    staff = request.state.get(STAFF_STATE_KEY)
    return Template(
        template_name=name,
        context={"staff": staff, "path": request.url.path, **context},
        status_code=status_code,
        media_type=MediaType.HTML,
        headers=headers,
    )


def parse_day(raw: str | None, *, default: date, field: str = "date") -> date:
    if raw is None or raw == "":
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadConsoleInput(
            f"The {field} must be a date written YYYY-MM-DD, e.g. 2030-12-02."
        ) from None


def _error(request: Request[Any, Any, Any], status: int, title: str, message: str) -> Response[Any]:
    headers = {"Retry-After": "5"} if status == 503 else None
    return page(
        request, "error.html", status_code=status, headers=headers, title=title, message=message
    )


def _bad_input(request: Request[Any, Any, Any], exc: BadConsoleInput) -> Response[Any]:
    return _error(request, 400, "That request can't be used", exc.message)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return _error(
        request, 400, "That request can't be used", "A value in the address or form is invalid."
    )


def _not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    message = getattr(exc, "message", "Nothing here.")
    return _error(request, 404, "Not found", str(message))


def _unavailable(request: Request[Any, Any, Any], exc: StorageUnavailable) -> Response[Any]:
    return _error(request, 503, "The schedule is unavailable", exc.message + " Try again shortly.")


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 403 and "CSRF" in str(exc.detail):
        return _error(
            request,
            403,
            "The form expired",
            "This form was missing its security token or it did not match. "
            "Reload the page and send it again.",
        )
    return _error(request, exc.status_code, "Request refused", str(exc.detail))


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("console request failed", exc_info=exc)
    return _error(request, 500, "Something went wrong", "The error was logged.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    BadConsoleInput: _bad_input,
    ValidationException: _validation,
    AppointmentNotFound: _not_found,
    CallNotFound: _not_found,
    StorageUnavailable: _unavailable,
    HTTPException: _http,
    Exception: _internal,
}
