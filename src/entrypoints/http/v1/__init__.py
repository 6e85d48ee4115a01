"""REST API v1 route handlers. Each parses, calls one use case, maps the result."""

from entrypoints.http.v1.appointments import AppointmentsController
from entrypoints.http.v1.calls import CallsController
from entrypoints.http.v1.practice import get_practice
from entrypoints.http.v1.slots import list_slots
from entrypoints.http.v1.webhooks import WebhooksController

__all__ = [
    "AppointmentsController",
    "CallsController",
    "WebhooksController",
    "get_practice",
    "list_slots",
]
